#include "textflag.h"

// func gemm4x16(a *float32, lda int, w *float32, k int, c *float32)
// c[r*16+j] = sum_i a[r*lda+i] * w[i*16+j] for r < 4, j < 16, i < k (k >= 1).
TEXT ·gemm4x16(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	SHLQ $2, R8
	MOVQ w+16(FP), DI
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

g4loop:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R9), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R10), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R11), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         $4, SI
	ADDQ         $4, R9
	ADDQ         $4, R10
	ADDQ         $4, R11
	ADDQ         $64, DI
	DECQ         CX
	JNZ          g4loop

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func gemm1x16(a *float32, w *float32, k int, c *float32)
// c[j] = sum_i a[i] * w[i*16+j] for j < 16, i < k (k >= 1).
TEXT ·gemm1x16(SB), NOSPLIT, $0-32
	MOVQ   a+0(FP), SI
	MOVQ   w+8(FP), DI
	MOVQ   k+16(FP), CX
	MOVQ   c+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

g1loop:
	VBROADCASTSS (SI), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	ADDQ         $4, SI
	ADDQ         $64, DI
	DECQ         CX
	JNZ          g1loop

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func maddAVX2(acc, x, w []float32)
// acc[i] += x[i] * w[i] for i < len(acc); x and w are at least as long.
TEXT ·maddAVX2(SB), NOSPLIT, $0-72
	MOVQ acc_base+0(FP), DI
	MOVQ acc_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ w_base+48(FP), DX
	MOVQ CX, BX
	SHRQ $4, BX
	JZ   maddtail

maddloop:
	VMOVUPS     (DI), Y0
	VMOVUPS     32(DI), Y1
	VMOVUPS     (SI), Y2
	VMOVUPS     32(SI), Y3
	VFMADD231PS (DX), Y2, Y0
	VFMADD231PS 32(DX), Y3, Y1
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	ADDQ        $64, DI
	ADDQ        $64, SI
	ADDQ        $64, DX
	DECQ        BX
	JNZ         maddloop

maddtail:
	ANDQ $15, CX
	JZ   madddone

maddscalar:
	VMOVSS      (DI), X0
	VMOVSS      (SI), X2
	VFMADD231SS (DX), X2, X0
	VMOVSS      X0, (DI)
	ADDQ        $4, DI
	ADDQ        $4, SI
	ADDQ        $4, DX
	DECQ        CX
	JNZ         maddscalar

madddone:
	VZEROUPPER
	RET

// func clampAVX2(x []float32, lo, hi float32)
// x[i] = min(hi, max(lo, x[i])).
TEXT ·clampAVX2(SB), NOSPLIT, $0-32
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS lo+24(FP), Y6
	VBROADCASTSS hi+28(FP), Y7
	MOVQ         CX, BX
	SHRQ         $4, BX
	JZ           clamptail

clamploop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMAXPS  Y6, Y0, Y0
	VMAXPS  Y6, Y1, Y1
	VMINPS  Y7, Y0, Y0
	VMINPS  Y7, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, DI
	DECQ    BX
	JNZ     clamploop

clamptail:
	ANDQ $15, CX
	JZ   clampdone

clampscalar:
	VMOVSS (DI), X0
	VMAXSS X6, X0, X0
	VMINSS X7, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   CX
	JNZ    clampscalar

clampdone:
	VZEROUPPER
	RET
