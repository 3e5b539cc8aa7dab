#include "textflag.h"

// func gemm6x16(a *float32, lda int, w *float32, k int, c *float32, ldc int, bias *float32, lo, hi float32)
// c[r*ldc+j] = clamp(bias[j] + sum_i a[r*lda+i] * w[i*16+j], lo, hi) for
// r < 6, j < 16, i < k (k >= 1): twelve 8-lane accumulators, two weight
// vectors and one broadcast input, the 16 registers of AVX2.
TEXT ·gemm6x16(SB), NOSPLIT, $0-64
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	SHLQ $2, R8
	MOVQ w+16(FP), DI
	MOVQ k+24(FP), CX
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

g6loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (SI)(R8*1), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	VBROADCASTSS (SI)(R8*2), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (R9), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	VBROADCASTSS (R9)(R8*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (R9)(R8*2), Y14
	VFMADD231PS Y12, Y14, Y10
	VFMADD231PS Y13, Y14, Y11
	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $64, DI
	DECQ CX
	JNZ  g6loop

	MOVQ         c+32(FP), DX
	MOVQ         ldc+40(FP), R10
	SHLQ         $2, R10
	LEAQ         (DX)(R10*2), R11
	ADDQ         R10, R11
	MOVQ         bias+48(FP), AX
	VMOVUPS      (AX), Y12
	VMOVUPS      32(AX), Y13
	VBROADCASTSS lo+56(FP), Y14
	VBROADCASTSS hi+60(FP), Y15
	VADDPS Y12, Y0, Y0
	VMAXPS Y14, Y0, Y0
	VMINPS Y15, Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS Y13, Y1, Y1
	VMAXPS Y14, Y1, Y1
	VMINPS Y15, Y1, Y1
	VMOVUPS Y1, 32(DX)
	VADDPS Y12, Y2, Y2
	VMAXPS Y14, Y2, Y2
	VMINPS Y15, Y2, Y2
	VMOVUPS Y2, (DX)(R10*1)
	VADDPS Y13, Y3, Y3
	VMAXPS Y14, Y3, Y3
	VMINPS Y15, Y3, Y3
	VMOVUPS Y3, 32(DX)(R10*1)
	VADDPS Y12, Y4, Y4
	VMAXPS Y14, Y4, Y4
	VMINPS Y15, Y4, Y4
	VMOVUPS Y4, (DX)(R10*2)
	VADDPS Y13, Y5, Y5
	VMAXPS Y14, Y5, Y5
	VMINPS Y15, Y5, Y5
	VMOVUPS Y5, 32(DX)(R10*2)
	VADDPS Y12, Y6, Y6
	VMAXPS Y14, Y6, Y6
	VMINPS Y15, Y6, Y6
	VMOVUPS Y6, (R11)
	VADDPS Y13, Y7, Y7
	VMAXPS Y14, Y7, Y7
	VMINPS Y15, Y7, Y7
	VMOVUPS Y7, 32(R11)
	VADDPS Y12, Y8, Y8
	VMAXPS Y14, Y8, Y8
	VMINPS Y15, Y8, Y8
	VMOVUPS Y8, (R11)(R10*1)
	VADDPS Y13, Y9, Y9
	VMAXPS Y14, Y9, Y9
	VMINPS Y15, Y9, Y9
	VMOVUPS Y9, 32(R11)(R10*1)
	VADDPS Y12, Y10, Y10
	VMAXPS Y14, Y10, Y10
	VMINPS Y15, Y10, Y10
	VMOVUPS Y10, (R11)(R10*2)
	VADDPS Y13, Y11, Y11
	VMAXPS Y14, Y11, Y11
	VMINPS Y15, Y11, Y11
	VMOVUPS Y11, 32(R11)(R10*2)
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

// func snapAVX2(x []float32, inv, zero, lo, hi, scale float32)
// x[i] = (floor(clamp(x[i]*inv + zero, lo, hi) + 0.5) - zero) * scale: the
// nearest value on a quantisation grid, halves rounded up.
TEXT ·snapAVX2(SB), NOSPLIT, $0-44
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS inv+24(FP), Y8
	VBROADCASTSS zero+28(FP), Y9
	VBROADCASTSS lo+32(FP), Y10
	VBROADCASTSS hi+36(FP), Y11
	VBROADCASTSS scale+40(FP), Y12
	MOVL         $0x3f000000, AX // 0.5
	VMOVD        AX, X13
	VBROADCASTSS X13, Y13
	MOVQ         CX, BX
	SHRQ         $3, BX
	JZ           snaptail

snaploop:
	VMOVUPS     (DI), Y0
	VFMADD213PS Y9, Y8, Y0
	VMAXPS      Y10, Y0, Y0
	VMINPS      Y11, Y0, Y0
	VADDPS      Y13, Y0, Y0
	VROUNDPS    $1, Y0, Y0
	VSUBPS      Y9, Y0, Y0
	VMULPS      Y12, Y0, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	DECQ        BX
	JNZ         snaploop

snaptail:
	ANDQ $7, CX
	JZ   snapdone

snapscalar:
	VMOVSS      (DI), X0
	VFMADD213SS X9, X8, X0
	VMAXSS      X10, X0, X0
	VMINSS      X11, X0, X0
	VADDSS      X13, X0, X0
	VROUNDSS    $1, X0, X0, X0
	VSUBSS      X9, X0, X0
	VMULSS      X12, X0, X0
	VMOVSS      X0, (DI)
	ADDQ        $4, DI
	DECQ        CX
	JNZ         snapscalar

snapdone:
	VZEROUPPER
	RET

// func dw3x3(src *float32, rowStride, colStride int, w *float32, o int, bias *float32, lo, hi float32, out *float32)
// One output pixel of a 3x3 depthwise convolution over o channels (o a
// multiple of 8): out[j] = clamp(bias[j] + Σ_tap src[tap][j]·w[tap*o+j]),
// the taps at src + ky*rowStride + kx*colStride (strides in floats).
TEXT ·dw3x3(SB), NOSPLIT, $0-64
	MOVQ         src+0(FP), SI
	MOVQ         rowStride+8(FP), R8
	SHLQ         $2, R8
	MOVQ         colStride+16(FP), CX
	SHLQ         $2, CX
	MOVQ         w+24(FP), DI
	MOVQ         o+32(FP), AX
	MOVQ         AX, R12
	SHLQ         $2, R12
	MOVQ         bias+40(FP), R13
	VBROADCASTSS lo+48(FP), Y14
	VBROADCASTSS hi+52(FP), Y15
	MOVQ         out+56(FP), DX
	LEAQ         (SI)(R8*1), R9
	ADDQ         R9, R8
	LEAQ         (DI)(R12*2), R10
	ADDQ         R12, R10
	LEAQ         (R10)(R12*2), R11
	ADDQ         R12, R11
	SHRQ         $3, AX
	JZ           dwdone

dwloop:
	VMOVUPS (R13), Y0
	VXORPS  Y2, Y2, Y2
	VMOVUPS (DI), Y4
	VFMADD231PS (SI), Y4, Y0
	VMOVUPS (DI)(R12*1), Y5
	VFMADD231PS (SI)(CX*1), Y5, Y2
	VMOVUPS (DI)(R12*2), Y6
	VFMADD231PS (SI)(CX*2), Y6, Y0
	VMOVUPS (R10), Y7
	VFMADD231PS (R9), Y7, Y2
	VMOVUPS (R10)(R12*1), Y4
	VFMADD231PS (R9)(CX*1), Y4, Y0
	VMOVUPS (R10)(R12*2), Y5
	VFMADD231PS (R9)(CX*2), Y5, Y2
	VMOVUPS (R11), Y6
	VFMADD231PS (R8), Y6, Y0
	VMOVUPS (R11)(R12*1), Y7
	VFMADD231PS (R8)(CX*1), Y7, Y2
	VMOVUPS (R11)(R12*2), Y4
	VFMADD231PS (R8)(CX*2), Y4, Y0
	VADDPS  Y2, Y0, Y0
	VMAXPS  Y14, Y0, Y0
	VMINPS  Y15, Y0, Y0
	VMOVUPS Y0, (DX)
	ADDQ    $32, SI
	ADDQ    $32, R9
	ADDQ    $32, R8
	ADDQ    $32, DI
	ADDQ    $32, R10
	ADDQ    $32, R11
	ADDQ    $32, R13
	ADDQ    $32, DX
	DECQ    AX
	JNZ     dwloop

dwdone:
	VZEROUPPER
	RET
