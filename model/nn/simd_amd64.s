#include "textflag.h"

// func axpyAVX2(a float32, x []float32, y []float32)
// y[i] += a*x[i] for i < len(x); len(y) >= len(x).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS a+0(FP), Y0
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	MOVQ y_base+32(FP), DI
	MOVQ CX, BX
	SHRQ $4, BX
	JZ   axpytail

axpyloop:
	VMOVUPS     (DI), Y3
	VMOVUPS     32(DI), Y4
	VFMADD231PS (SI), Y0, Y3
	VFMADD231PS 32(SI), Y0, Y4
	VMOVUPS     Y3, (DI)
	VMOVUPS     Y4, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        BX
	JNZ         axpyloop

axpytail:
	ANDQ $15, CX
	JZ   axpydone

axpyscalar:
	VMOVSS      (DI), X3
	VFMADD231SS (SI), X0, X3
	VMOVSS      X3, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         axpyscalar

axpydone:
	VZEROUPPER
	RET

// func dotAVX2(a, b []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   CX, BX
	SHRQ   $4, BX
	JZ     dotreduce

dotloop:
	VMOVUPS     (SI), Y2
	VMOVUPS     32(SI), Y3
	VFMADD231PS (DI), Y2, Y0
	VFMADD231PS 32(DI), Y3, Y1
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        BX
	JNZ         dotloop

dotreduce:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	ANDQ         $15, CX
	JZ           dotdone

dotscalar:
	VMOVSS      (SI), X2
	VFMADD231SS (DI), X2, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         dotscalar

dotdone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func axpy8AVX2(x *float32, w *float32, stride int, y []float32)
// y[j] += x[0]*w[j] + x[1]*w[stride+j] + ... + x[7]*w[7*stride+j] for
// j < len(y) rounded down to a multiple of 8: eight rows of a row-major
// matrix at once, so y is loaded and stored once per eight products.
TEXT ·axpy8AVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), AX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	VBROADCASTSS 24(AX), Y6
	VBROADCASTSS 28(AX), Y7
	MOVQ w+8(FP), SI
	MOVQ stride+16(FP), DX
	SHLQ $2, DX
	MOVQ y_base+24(FP), DI
	MOVQ y_len+32(FP), CX
	LEAQ (SI)(DX*1), R8
	LEAQ (SI)(DX*2), R9
	LEAQ (R8)(DX*2), R10
	LEAQ (SI)(DX*4), R11
	LEAQ (R8)(DX*4), R12
	LEAQ (R9)(DX*4), R13
	LEAQ (R10)(DX*4), R14
	XORQ BX, BX
	MOVQ CX, AX
	SHRQ $5, AX
	JZ   axpy8tail

axpy8loop:
	VMOVUPS 0(DI)(BX*1), Y8
	VMOVUPS 32(DI)(BX*1), Y9
	VMOVUPS 64(DI)(BX*1), Y10
	VMOVUPS 96(DI)(BX*1), Y11
	VFMADD231PS 0(SI)(BX*1), Y0, Y8
	VFMADD231PS 32(SI)(BX*1), Y0, Y9
	VFMADD231PS 64(SI)(BX*1), Y0, Y10
	VFMADD231PS 96(SI)(BX*1), Y0, Y11
	VFMADD231PS 0(R8)(BX*1), Y1, Y8
	VFMADD231PS 32(R8)(BX*1), Y1, Y9
	VFMADD231PS 64(R8)(BX*1), Y1, Y10
	VFMADD231PS 96(R8)(BX*1), Y1, Y11
	VFMADD231PS 0(R9)(BX*1), Y2, Y8
	VFMADD231PS 32(R9)(BX*1), Y2, Y9
	VFMADD231PS 64(R9)(BX*1), Y2, Y10
	VFMADD231PS 96(R9)(BX*1), Y2, Y11
	VFMADD231PS 0(R10)(BX*1), Y3, Y8
	VFMADD231PS 32(R10)(BX*1), Y3, Y9
	VFMADD231PS 64(R10)(BX*1), Y3, Y10
	VFMADD231PS 96(R10)(BX*1), Y3, Y11
	VFMADD231PS 0(R11)(BX*1), Y4, Y8
	VFMADD231PS 32(R11)(BX*1), Y4, Y9
	VFMADD231PS 64(R11)(BX*1), Y4, Y10
	VFMADD231PS 96(R11)(BX*1), Y4, Y11
	VFMADD231PS 0(R12)(BX*1), Y5, Y8
	VFMADD231PS 32(R12)(BX*1), Y5, Y9
	VFMADD231PS 64(R12)(BX*1), Y5, Y10
	VFMADD231PS 96(R12)(BX*1), Y5, Y11
	VFMADD231PS 0(R13)(BX*1), Y6, Y8
	VFMADD231PS 32(R13)(BX*1), Y6, Y9
	VFMADD231PS 64(R13)(BX*1), Y6, Y10
	VFMADD231PS 96(R13)(BX*1), Y6, Y11
	VFMADD231PS 0(R14)(BX*1), Y7, Y8
	VFMADD231PS 32(R14)(BX*1), Y7, Y9
	VFMADD231PS 64(R14)(BX*1), Y7, Y10
	VFMADD231PS 96(R14)(BX*1), Y7, Y11
	VMOVUPS Y8, 0(DI)(BX*1)
	VMOVUPS Y9, 32(DI)(BX*1)
	VMOVUPS Y10, 64(DI)(BX*1)
	VMOVUPS Y11, 96(DI)(BX*1)
	ADDQ $128, BX
	DECQ AX
	JNZ  axpy8loop

axpy8tail:
	MOVQ CX, AX
	ANDQ $31, AX
	SHRQ $3, AX
	JZ   axpy8done

axpy8loop8:
	VMOVUPS (DI)(BX*1), Y8
	VFMADD231PS (SI)(BX*1), Y0, Y8
	VFMADD231PS (R8)(BX*1), Y1, Y8
	VFMADD231PS (R9)(BX*1), Y2, Y8
	VFMADD231PS (R10)(BX*1), Y3, Y8
	VFMADD231PS (R11)(BX*1), Y4, Y8
	VFMADD231PS (R12)(BX*1), Y5, Y8
	VFMADD231PS (R13)(BX*1), Y6, Y8
	VFMADD231PS (R14)(BX*1), Y7, Y8
	VMOVUPS Y8, (DI)(BX*1)
	ADDQ $32, BX
	DECQ AX
	JNZ  axpy8loop8

axpy8done:
	VZEROUPPER
	RET

// func hasF16C() bool
TEXT ·hasF16C(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	SHRL $29, CX
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET

// func panelF16(x []float32, w *uint16, y *float32)
// y[j] += Σ_r x[r]·w[64r+j] for j < 64: one 64-column panel of a matrix
// stored panel by panel, each row's 64 values contiguous, so the weights
// stream in order and y stays in eight registers across all rows.
TEXT ·panelF16(SB), NOSPLIT, $0-40
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ w+24(FP), DI
	MOVQ y+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ    panelF16sum

panelF16loop:
	PREFETCHT0   1024(DI)
	PREFETCHT0   1088(DI)
	VBROADCASTSS (SI), Y8
	VCVTPH2PS 0(DI), Y9
	VFMADD231PS Y9, Y8, Y0
	VCVTPH2PS 16(DI), Y10
	VFMADD231PS Y10, Y8, Y1
	VCVTPH2PS 32(DI), Y11
	VFMADD231PS Y11, Y8, Y2
	VCVTPH2PS 48(DI), Y12
	VFMADD231PS Y12, Y8, Y3
	VCVTPH2PS 64(DI), Y9
	VFMADD231PS Y9, Y8, Y4
	VCVTPH2PS 80(DI), Y10
	VFMADD231PS Y10, Y8, Y5
	VCVTPH2PS 96(DI), Y11
	VFMADD231PS Y11, Y8, Y6
	VCVTPH2PS 112(DI), Y12
	VFMADD231PS Y12, Y8, Y7
	ADDQ $4, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  panelF16loop

panelF16sum:
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VADDPS 64(DX), Y2, Y2
	VMOVUPS Y2, 64(DX)
	VADDPS 96(DX), Y3, Y3
	VMOVUPS Y3, 96(DX)
	VADDPS 128(DX), Y4, Y4
	VMOVUPS Y4, 128(DX)
	VADDPS 160(DX), Y5, Y5
	VMOVUPS Y5, 160(DX)
	VADDPS 192(DX), Y6, Y6
	VMOVUPS Y6, 192(DX)
	VADDPS 224(DX), Y7, Y7
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func panelF32(x []float32, w *float32, y *float32)
// y[j] += Σ_r x[r]·w[64r+j] for j < 64: one 64-column panel of a matrix
// stored panel by panel, each row's 64 values contiguous, so the weights
// stream in order and y stays in eight registers across all rows.
TEXT ·panelF32(SB), NOSPLIT, $0-40
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ w+24(FP), DI
	MOVQ y+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ    panelF32sum

panelF32loop:
	PREFETCHT0   2048(DI)
	PREFETCHT0   2112(DI)
	PREFETCHT0   2176(DI)
	PREFETCHT0   2240(DI)
	VBROADCASTSS (SI), Y8
	VFMADD231PS 0(DI), Y8, Y0
	VFMADD231PS 32(DI), Y8, Y1
	VFMADD231PS 64(DI), Y8, Y2
	VFMADD231PS 96(DI), Y8, Y3
	VFMADD231PS 128(DI), Y8, Y4
	VFMADD231PS 160(DI), Y8, Y5
	VFMADD231PS 192(DI), Y8, Y6
	VFMADD231PS 224(DI), Y8, Y7
	ADDQ $4, SI
	ADDQ $256, DI
	DECQ CX
	JNZ  panelF32loop

panelF32sum:
	VADDPS 0(DX), Y0, Y0
	VMOVUPS Y0, 0(DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VADDPS 64(DX), Y2, Y2
	VMOVUPS Y2, 64(DX)
	VADDPS 96(DX), Y3, Y3
	VMOVUPS Y3, 96(DX)
	VADDPS 128(DX), Y4, Y4
	VMOVUPS Y4, 128(DX)
	VADDPS 160(DX), Y5, Y5
	VMOVUPS Y5, 160(DX)
	VADDPS 192(DX), Y6, Y6
	VMOVUPS Y6, 192(DX)
	VADDPS 224(DX), Y7, Y7
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// Constants for the vector exp, each repeated in 8 lanes.
DATA vexp<>+0(SB)/4, $0x3fb8aa3b
DATA vexp<>+4(SB)/4, $0x3fb8aa3b
DATA vexp<>+8(SB)/4, $0x3fb8aa3b
DATA vexp<>+12(SB)/4, $0x3fb8aa3b
DATA vexp<>+16(SB)/4, $0x3fb8aa3b
DATA vexp<>+20(SB)/4, $0x3fb8aa3b
DATA vexp<>+24(SB)/4, $0x3fb8aa3b
DATA vexp<>+28(SB)/4, $0x3fb8aa3b
DATA vexp<>+32(SB)/4, $0x3f317200
DATA vexp<>+36(SB)/4, $0x3f317200
DATA vexp<>+40(SB)/4, $0x3f317200
DATA vexp<>+44(SB)/4, $0x3f317200
DATA vexp<>+48(SB)/4, $0x3f317200
DATA vexp<>+52(SB)/4, $0x3f317200
DATA vexp<>+56(SB)/4, $0x3f317200
DATA vexp<>+60(SB)/4, $0x3f317200
DATA vexp<>+64(SB)/4, $0x35bfbe8e
DATA vexp<>+68(SB)/4, $0x35bfbe8e
DATA vexp<>+72(SB)/4, $0x35bfbe8e
DATA vexp<>+76(SB)/4, $0x35bfbe8e
DATA vexp<>+80(SB)/4, $0x35bfbe8e
DATA vexp<>+84(SB)/4, $0x35bfbe8e
DATA vexp<>+88(SB)/4, $0x35bfbe8e
DATA vexp<>+92(SB)/4, $0x35bfbe8e
DATA vexp<>+96(SB)/4, $0x39500d01
DATA vexp<>+100(SB)/4, $0x39500d01
DATA vexp<>+104(SB)/4, $0x39500d01
DATA vexp<>+108(SB)/4, $0x39500d01
DATA vexp<>+112(SB)/4, $0x39500d01
DATA vexp<>+116(SB)/4, $0x39500d01
DATA vexp<>+120(SB)/4, $0x39500d01
DATA vexp<>+124(SB)/4, $0x39500d01
DATA vexp<>+128(SB)/4, $0x3ab60b61
DATA vexp<>+132(SB)/4, $0x3ab60b61
DATA vexp<>+136(SB)/4, $0x3ab60b61
DATA vexp<>+140(SB)/4, $0x3ab60b61
DATA vexp<>+144(SB)/4, $0x3ab60b61
DATA vexp<>+148(SB)/4, $0x3ab60b61
DATA vexp<>+152(SB)/4, $0x3ab60b61
DATA vexp<>+156(SB)/4, $0x3ab60b61
DATA vexp<>+160(SB)/4, $0x3c088889
DATA vexp<>+164(SB)/4, $0x3c088889
DATA vexp<>+168(SB)/4, $0x3c088889
DATA vexp<>+172(SB)/4, $0x3c088889
DATA vexp<>+176(SB)/4, $0x3c088889
DATA vexp<>+180(SB)/4, $0x3c088889
DATA vexp<>+184(SB)/4, $0x3c088889
DATA vexp<>+188(SB)/4, $0x3c088889
DATA vexp<>+192(SB)/4, $0x3d2aaaab
DATA vexp<>+196(SB)/4, $0x3d2aaaab
DATA vexp<>+200(SB)/4, $0x3d2aaaab
DATA vexp<>+204(SB)/4, $0x3d2aaaab
DATA vexp<>+208(SB)/4, $0x3d2aaaab
DATA vexp<>+212(SB)/4, $0x3d2aaaab
DATA vexp<>+216(SB)/4, $0x3d2aaaab
DATA vexp<>+220(SB)/4, $0x3d2aaaab
DATA vexp<>+224(SB)/4, $0x3e2aaaab
DATA vexp<>+228(SB)/4, $0x3e2aaaab
DATA vexp<>+232(SB)/4, $0x3e2aaaab
DATA vexp<>+236(SB)/4, $0x3e2aaaab
DATA vexp<>+240(SB)/4, $0x3e2aaaab
DATA vexp<>+244(SB)/4, $0x3e2aaaab
DATA vexp<>+248(SB)/4, $0x3e2aaaab
DATA vexp<>+252(SB)/4, $0x3e2aaaab
DATA vexp<>+256(SB)/4, $0x3f000000
DATA vexp<>+260(SB)/4, $0x3f000000
DATA vexp<>+264(SB)/4, $0x3f000000
DATA vexp<>+268(SB)/4, $0x3f000000
DATA vexp<>+272(SB)/4, $0x3f000000
DATA vexp<>+276(SB)/4, $0x3f000000
DATA vexp<>+280(SB)/4, $0x3f000000
DATA vexp<>+284(SB)/4, $0x3f000000
DATA vexp<>+288(SB)/4, $0x3f800000
DATA vexp<>+292(SB)/4, $0x3f800000
DATA vexp<>+296(SB)/4, $0x3f800000
DATA vexp<>+300(SB)/4, $0x3f800000
DATA vexp<>+304(SB)/4, $0x3f800000
DATA vexp<>+308(SB)/4, $0x3f800000
DATA vexp<>+312(SB)/4, $0x3f800000
DATA vexp<>+316(SB)/4, $0x3f800000
DATA vexp<>+320(SB)/4, $0x40000000
DATA vexp<>+324(SB)/4, $0x40000000
DATA vexp<>+328(SB)/4, $0x40000000
DATA vexp<>+332(SB)/4, $0x40000000
DATA vexp<>+336(SB)/4, $0x40000000
DATA vexp<>+340(SB)/4, $0x40000000
DATA vexp<>+344(SB)/4, $0x40000000
DATA vexp<>+348(SB)/4, $0x40000000
DATA vexp<>+352(SB)/4, $0xc2aea8f6
DATA vexp<>+356(SB)/4, $0xc2aea8f6
DATA vexp<>+360(SB)/4, $0xc2aea8f6
DATA vexp<>+364(SB)/4, $0xc2aea8f6
DATA vexp<>+368(SB)/4, $0xc2aea8f6
DATA vexp<>+372(SB)/4, $0xc2aea8f6
DATA vexp<>+376(SB)/4, $0xc2aea8f6
DATA vexp<>+380(SB)/4, $0xc2aea8f6
DATA vexp<>+384(SB)/4, $0x42b170a4
DATA vexp<>+388(SB)/4, $0x42b170a4
DATA vexp<>+392(SB)/4, $0x42b170a4
DATA vexp<>+396(SB)/4, $0x42b170a4
DATA vexp<>+400(SB)/4, $0x42b170a4
DATA vexp<>+404(SB)/4, $0x42b170a4
DATA vexp<>+408(SB)/4, $0x42b170a4
DATA vexp<>+412(SB)/4, $0x42b170a4
GLOBL vexp<>(SB), RODATA|NOPTR, $416

// func expSumAVX2(x []float32, m float32) float32
// x[i] = e^(x[i]-m) for i < len(x)&^7; returns the sum of those values.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-36
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VXORPS       Y14, Y14, Y14
	SHRQ         $3, CX
	JZ           expsumdone

expsumloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y15, Y0, Y0
	VMAXPS vexp<>+352(SB), Y0, Y0
	VMINPS vexp<>+384(SB), Y0, Y0
	VMULPS vexp<>+0(SB), Y0, Y2
	VROUNDPS $0, Y2, Y2
	VFNMADD231PS vexp<>+32(SB), Y2, Y0
	VFNMADD231PS vexp<>+64(SB), Y2, Y0
	VMOVUPS vexp<>+96(SB), Y1
	VFMADD213PS vexp<>+128(SB), Y0, Y1
	VFMADD213PS vexp<>+160(SB), Y0, Y1
	VFMADD213PS vexp<>+192(SB), Y0, Y1
	VFMADD213PS vexp<>+224(SB), Y0, Y1
	VFMADD213PS vexp<>+256(SB), Y0, Y1
	VFMADD213PS vexp<>+288(SB), Y0, Y1
	VFMADD213PS vexp<>+288(SB), Y0, Y1
	VCVTPS2DQ Y2, Y2
	VPSLLD $23, Y2, Y2
	VPADDD Y2, Y1, Y1
	VMOVUPS Y1, (SI)
	VADDPS  Y1, Y14, Y14
	ADDQ    $32, SI
	DECQ    CX
	JNZ     expsumloop

expsumdone:
	VEXTRACTF128 $1, Y14, X1
	VADDPS X1, X14, X14
	VHADDPS X14, X14, X14
	VHADDPS X14, X14, X14
	VZEROUPPER
	MOVSS X14, ret+32(FP)
	RET

// func maxAVX2(x []float32) float32
// The largest of x[:len(x)&^7]; len(x) >= 8.
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ    x_base+0(FP), SI
	MOVQ    x_len+8(FP), CX
	VMOVUPS (SI), Y0
	SHRQ    $3, CX

maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   CX
	JNZ    maxloop
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func scaleAVX2(x []float32, s float32)
// x[i] *= s for i < len(x)&^7.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS s+24(FP), Y1
	SHRQ         $3, CX
	JZ           scaledone

scaleloop:
	VMULPS  (SI), Y1, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     scaleloop

scaledone:
	VZEROUPPER
	RET

// func tanhAVX2(x []float32)
// x[i] = tanh(x[i]) for i < len(x)&^7.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $3, CX
	JZ   tanhdone

tanhloop:
	VMOVUPS (SI), Y0
	VADDPS Y0, Y0, Y0
	VMAXPS vexp<>+352(SB), Y0, Y0
	VMINPS vexp<>+384(SB), Y0, Y0
	VMULPS vexp<>+0(SB), Y0, Y2
	VROUNDPS $0, Y2, Y2
	VFNMADD231PS vexp<>+32(SB), Y2, Y0
	VFNMADD231PS vexp<>+64(SB), Y2, Y0
	VMOVUPS vexp<>+96(SB), Y1
	VFMADD213PS vexp<>+128(SB), Y0, Y1
	VFMADD213PS vexp<>+160(SB), Y0, Y1
	VFMADD213PS vexp<>+192(SB), Y0, Y1
	VFMADD213PS vexp<>+224(SB), Y0, Y1
	VFMADD213PS vexp<>+256(SB), Y0, Y1
	VFMADD213PS vexp<>+288(SB), Y0, Y1
	VFMADD213PS vexp<>+288(SB), Y0, Y1
	VCVTPS2DQ Y2, Y2
	VPSLLD $23, Y2, Y2
	VPADDD Y2, Y1, Y1
	VADDPS vexp<>+288(SB), Y1, Y1
	VMOVUPS vexp<>+320(SB), Y2
	VDIVPS Y1, Y2, Y2
	VMOVUPS vexp<>+288(SB), Y1
	VSUBPS Y2, Y1, Y1
	VMOVUPS Y1, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     tanhloop

tanhdone:
	VZEROUPPER
	RET

// func tanhAddDotAVX2(a, b, v []float32) float32
// Σ v[j]·tanh(a[j]+b[j]) over j < len(a)&^7: additive attention's score.
TEXT ·tanhAddDotAVX2(SB), NOSPLIT, $0-76
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	MOVQ   v_base+48(FP), DX
	VXORPS Y14, Y14, Y14
	SHRQ   $3, CX
	JZ     tanhdotdone

tanhdotloop:
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0
	VADDPS Y0, Y0, Y0
	VMAXPS vexp<>+352(SB), Y0, Y0
	VMINPS vexp<>+384(SB), Y0, Y0
	VMULPS vexp<>+0(SB), Y0, Y2
	VROUNDPS $0, Y2, Y2
	VFNMADD231PS vexp<>+32(SB), Y2, Y0
	VFNMADD231PS vexp<>+64(SB), Y2, Y0
	VMOVUPS vexp<>+96(SB), Y1
	VFMADD213PS vexp<>+128(SB), Y0, Y1
	VFMADD213PS vexp<>+160(SB), Y0, Y1
	VFMADD213PS vexp<>+192(SB), Y0, Y1
	VFMADD213PS vexp<>+224(SB), Y0, Y1
	VFMADD213PS vexp<>+256(SB), Y0, Y1
	VFMADD213PS vexp<>+288(SB), Y0, Y1
	VFMADD213PS vexp<>+288(SB), Y0, Y1
	VCVTPS2DQ Y2, Y2
	VPSLLD $23, Y2, Y2
	VPADDD Y2, Y1, Y1
	VADDPS vexp<>+288(SB), Y1, Y1
	VMOVUPS vexp<>+320(SB), Y2
	VDIVPS Y1, Y2, Y2
	VMOVUPS vexp<>+288(SB), Y1
	VSUBPS Y2, Y1, Y1
	VFMADD231PS (DX), Y1, Y14
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         tanhdotloop

tanhdotdone:
	VEXTRACTF128 $1, Y14, X1
	VADDPS X1, X14, X14
	VHADDPS X14, X14, X14
	VHADDPS X14, X14, X14
	VZEROUPPER
	MOVSS X14, ret+72(FP)
	RET

// Batch kernels: one 16-column strip of a float16 panel (rows of 64
// values, 128 bytes apart) times n vectors at once, n = 1..6, so a beam's
// hypotheses share one read of the weights. xs and ys point to arrays of
// n vector pointers, already offset to the strip's first column for ys;
// in is the number of rows. ys[k][0:16] += Σ_r xs[k][r]·w[r][0:16].

// func strip16F16x1(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)
TEXT ·strip16F16x1(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ in+8(FP), CX
	MOVQ w+16(FP), SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TESTQ CX, CX
	JZ    s16x1sum

s16x1loop:
	VCVTPH2PS (SI), Y12
	VCVTPH2PS 16(SI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	ADDQ $4, R8
	ADDQ $128, SI
	DECQ CX
	JNZ  s16x1loop

s16x1sum:
	MOVQ ys+24(FP), AX
	MOVQ 0(AX), DX
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func strip16F16x2(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)
TEXT ·strip16F16x2(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ in+8(FP), CX
	MOVQ w+16(FP), SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TESTQ CX, CX
	JZ    s16x2sum

s16x2loop:
	VCVTPH2PS (SI), Y12
	VCVTPH2PS 16(SI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	ADDQ $4, R8
	VBROADCASTSS (R9), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	ADDQ $4, R9
	ADDQ $128, SI
	DECQ CX
	JNZ  s16x2loop

s16x2sum:
	MOVQ ys+24(FP), AX
	MOVQ 0(AX), DX
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	MOVQ 8(AX), DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	VZEROUPPER
	RET

// func strip16F16x3(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)
TEXT ·strip16F16x3(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ in+8(FP), CX
	MOVQ w+16(FP), SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	TESTQ CX, CX
	JZ    s16x3sum

s16x3loop:
	VCVTPH2PS (SI), Y12
	VCVTPH2PS 16(SI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	ADDQ $4, R8
	VBROADCASTSS (R9), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	ADDQ $4, R9
	VBROADCASTSS (R10), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	ADDQ $4, R10
	ADDQ $128, SI
	DECQ CX
	JNZ  s16x3loop

s16x3sum:
	MOVQ ys+24(FP), AX
	MOVQ 0(AX), DX
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	MOVQ 8(AX), DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	MOVQ 16(AX), DX
	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	VZEROUPPER
	RET

// func strip16F16x4(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)
TEXT ·strip16F16x4(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ in+8(FP), CX
	MOVQ w+16(FP), SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ    s16x4sum

s16x4loop:
	VCVTPH2PS (SI), Y12
	VCVTPH2PS 16(SI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	ADDQ $4, R8
	VBROADCASTSS (R9), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	ADDQ $4, R9
	VBROADCASTSS (R10), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	ADDQ $4, R10
	VBROADCASTSS (R11), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	ADDQ $4, R11
	ADDQ $128, SI
	DECQ CX
	JNZ  s16x4loop

s16x4sum:
	MOVQ ys+24(FP), AX
	MOVQ 0(AX), DX
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	MOVQ 8(AX), DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	MOVQ 16(AX), DX
	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	MOVQ 24(AX), DX
	VADDPS (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// func strip16F16x5(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)
TEXT ·strip16F16x5(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ 32(AX), R12
	MOVQ in+8(FP), CX
	MOVQ w+16(FP), SI
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
	TESTQ CX, CX
	JZ    s16x5sum

s16x5loop:
	VCVTPH2PS (SI), Y12
	VCVTPH2PS 16(SI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	ADDQ $4, R8
	VBROADCASTSS (R9), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	ADDQ $4, R9
	VBROADCASTSS (R10), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	ADDQ $4, R10
	VBROADCASTSS (R11), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	ADDQ $4, R11
	VBROADCASTSS (R12), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	ADDQ $4, R12
	ADDQ $128, SI
	DECQ CX
	JNZ  s16x5loop

s16x5sum:
	MOVQ ys+24(FP), AX
	MOVQ 0(AX), DX
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	MOVQ 8(AX), DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	MOVQ 16(AX), DX
	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	MOVQ 24(AX), DX
	VADDPS (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	MOVQ 32(AX), DX
	VADDPS (DX), Y8, Y8
	VMOVUPS Y8, (DX)
	VADDPS 32(DX), Y9, Y9
	VMOVUPS Y9, 32(DX)
	VZEROUPPER
	RET

// func strip16F16x6(xs *[6]*float32, in int, w *uint16, ys *[6]*float32)
TEXT ·strip16F16x6(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ 32(AX), R12
	MOVQ 40(AX), R13
	MOVQ in+8(FP), CX
	MOVQ w+16(FP), SI
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
	TESTQ CX, CX
	JZ    s16x6sum

s16x6loop:
	VCVTPH2PS (SI), Y12
	VCVTPH2PS 16(SI), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	ADDQ $4, R8
	VBROADCASTSS (R9), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	ADDQ $4, R9
	VBROADCASTSS (R10), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	ADDQ $4, R10
	VBROADCASTSS (R11), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	ADDQ $4, R11
	VBROADCASTSS (R12), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	ADDQ $4, R12
	VBROADCASTSS (R13), Y14
	VFMADD231PS Y12, Y14, Y10
	VFMADD231PS Y13, Y14, Y11
	ADDQ $4, R13
	ADDQ $128, SI
	DECQ CX
	JNZ  s16x6loop

s16x6sum:
	MOVQ ys+24(FP), AX
	MOVQ 0(AX), DX
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	MOVQ 8(AX), DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	MOVQ 16(AX), DX
	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	MOVQ 24(AX), DX
	VADDPS (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	MOVQ 32(AX), DX
	VADDPS (DX), Y8, Y8
	VMOVUPS Y8, (DX)
	VADDPS 32(DX), Y9, Y9
	VMOVUPS Y9, 32(DX)
	MOVQ 40(AX), DX
	VADDPS (DX), Y10, Y10
	VMOVUPS Y10, (DX)
	VADDPS 32(DX), Y11, Y11
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// Adam's constants, each repeated in 8 lanes.
DATA vadam<>+0(SB)/4, $0x3f666666
DATA vadam<>+4(SB)/4, $0x3f666666
DATA vadam<>+8(SB)/4, $0x3f666666
DATA vadam<>+12(SB)/4, $0x3f666666
DATA vadam<>+16(SB)/4, $0x3f666666
DATA vadam<>+20(SB)/4, $0x3f666666
DATA vadam<>+24(SB)/4, $0x3f666666
DATA vadam<>+28(SB)/4, $0x3f666666
DATA vadam<>+32(SB)/4, $0x3dcccccd
DATA vadam<>+36(SB)/4, $0x3dcccccd
DATA vadam<>+40(SB)/4, $0x3dcccccd
DATA vadam<>+44(SB)/4, $0x3dcccccd
DATA vadam<>+48(SB)/4, $0x3dcccccd
DATA vadam<>+52(SB)/4, $0x3dcccccd
DATA vadam<>+56(SB)/4, $0x3dcccccd
DATA vadam<>+60(SB)/4, $0x3dcccccd
DATA vadam<>+64(SB)/4, $0x3f7fbe77
DATA vadam<>+68(SB)/4, $0x3f7fbe77
DATA vadam<>+72(SB)/4, $0x3f7fbe77
DATA vadam<>+76(SB)/4, $0x3f7fbe77
DATA vadam<>+80(SB)/4, $0x3f7fbe77
DATA vadam<>+84(SB)/4, $0x3f7fbe77
DATA vadam<>+88(SB)/4, $0x3f7fbe77
DATA vadam<>+92(SB)/4, $0x3f7fbe77
DATA vadam<>+96(SB)/4, $0x3a83126f
DATA vadam<>+100(SB)/4, $0x3a83126f
DATA vadam<>+104(SB)/4, $0x3a83126f
DATA vadam<>+108(SB)/4, $0x3a83126f
DATA vadam<>+112(SB)/4, $0x3a83126f
DATA vadam<>+116(SB)/4, $0x3a83126f
DATA vadam<>+120(SB)/4, $0x3a83126f
DATA vadam<>+124(SB)/4, $0x3a83126f
GLOBL vadam<>(SB), RODATA|NOPTR, $128

// func adamAVX2(g, m, v, w []float32, scale, step, eps float32)
// For i < len(g)&^7, with x = g[i]·scale: m = 0.9m + 0.1x,
// v = 0.999v + 0.001x², w -= step·m/(sqrt(v) + eps).
TEXT ·adamAVX2(SB), NOSPLIT, $0-108
	MOVQ         g_base+0(FP), SI
	MOVQ         g_len+8(FP), CX
	MOVQ         m_base+24(FP), DI
	MOVQ         v_base+48(FP), DX
	MOVQ         w_base+72(FP), R8
	VBROADCASTSS scale+96(FP), Y14
	VBROADCASTSS step+100(FP), Y15
	VBROADCASTSS eps+104(FP), Y13
	SHRQ         $3, CX
	JZ           adamdone

adamloop:
	VMULPS      (SI), Y14, Y0
	VMOVUPS     (DI), Y1
	VMULPS      vadam<>+0(SB), Y1, Y1
	VFMADD231PS vadam<>+32(SB), Y0, Y1
	VMOVUPS     Y1, (DI)
	VMULPS      Y0, Y0, Y2
	VMOVUPS     (DX), Y3
	VMULPS      vadam<>+64(SB), Y3, Y3
	VFMADD231PS vadam<>+96(SB), Y2, Y3
	VMOVUPS     Y3, (DX)
	VSQRTPS     Y3, Y3
	VADDPS      Y13, Y3, Y3
	VDIVPS      Y3, Y1, Y1
	VMOVUPS     (R8), Y4
	VFNMADD231PS Y15, Y1, Y4
	VMOVUPS     Y4, (R8)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	ADDQ        $32, R8
	DECQ        CX
	JNZ         adamloop

adamdone:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x []float32) float64
// Σ x[i]² over i < len(x)&^7, accumulated in float64.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	SHRQ   $3, CX
	JZ     sumsqdone

sumsqloop:
	VCVTPS2PD   (SI), Y2
	VCVTPS2PD   16(SI), Y3
	VFMADD231PD Y2, Y2, Y0
	VFMADD231PD Y3, Y3, Y1
	ADDQ        $32, SI
	DECQ        CX
	JNZ         sumsqloop

sumsqdone:
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	VZEROUPPER
	MOVSD        X0, ret+24(FP)
	RET

// func panelF16x512(x []float32, w *uint16, y *float32)
// panelF16 with AVX-512: a 64-column row in four 16-lane registers, so
// half as many conversions a row. Each column sums its rows in the same
// order as panelF16, with the same fused multiply-adds: the same result.
TEXT ·panelF16x512(SB), NOSPLIT, $0-40
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ w+24(FP), DI
	MOVQ y+32(FP), DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	TESTQ CX, CX
	JZ    panelF16x512sum

panelF16x512loop:
	PREFETCHT0   1024(DI)
	PREFETCHT0   1088(DI)
	VBROADCASTSS (SI), Z8
	VCVTPH2PS 0(DI), Z9
	VFMADD231PS Z9, Z8, Z0
	VCVTPH2PS 32(DI), Z10
	VFMADD231PS Z10, Z8, Z1
	VCVTPH2PS 64(DI), Z11
	VFMADD231PS Z11, Z8, Z2
	VCVTPH2PS 96(DI), Z12
	VFMADD231PS Z12, Z8, Z3
	ADDQ $4, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  panelF16x512loop

panelF16x512sum:
	VADDPS 0(DX), Z0, Z0
	VMOVUPS Z0, 0(DX)
	VADDPS 64(DX), Z1, Z1
	VMOVUPS Z1, 64(DX)
	VADDPS 128(DX), Z2, Z2
	VMOVUPS Z2, 128(DX)
	VADDPS 192(DX), Z3, Z3
	VMOVUPS Z3, 192(DX)
	VZEROUPPER
	RET
