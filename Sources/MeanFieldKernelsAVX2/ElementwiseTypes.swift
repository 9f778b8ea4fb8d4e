// Vector types of this module's copy of Shared/ElementwiseBodies.swift (x86-64-v3: 256-bit vectors).
typealias ElementwiseFloatVector = SIMD8<Float>
typealias ElementwiseFloatBits = SIMD8<Int32>
typealias ElementwiseDoubleVector = SIMD4<Double>
typealias ElementwiseDoubleBits = SIMD4<Int64>
