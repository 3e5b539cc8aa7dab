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
