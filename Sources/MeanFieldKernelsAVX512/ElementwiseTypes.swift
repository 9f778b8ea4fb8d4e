// Vector types of this module's copy of Shared/ElementwiseBodies.swift (x86-64-v4: 512-bit vectors).
typealias ElementwiseFloatVector = SIMD16<Float>
typealias ElementwiseFloatBits = SIMD16<Int32>
typealias ElementwiseDoubleVector = SIMD8<Double>
typealias ElementwiseDoubleBits = SIMD8<Int64>
