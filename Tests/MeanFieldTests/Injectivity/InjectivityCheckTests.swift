// The NTK injectivity test against the closed-form cases of theory §2: a set and its translate are
// dependent (g differs by a·c), single tokens always fail (g affine), generic discrete/uniform/mixture
// sets are independent, exact Gaussians are independent iff K ≤ d(d+1)/2 (the dimension of the
// symmetric matrices their covariances live in), and the certificate is stable when P doubles.
import Foundation
import MeanField
import Testing

private func check(_ family: TokenFamily, sets: Int, dimension: Int = 3, directions: Int = 128, exact: Bool = false) throws -> [InjectivitySpectrum] {
    let measures = try TokenFamilyGenerator.generate(family, sets: sets, tokens: 12, dimension: dimension, seed: 3, exactGaussians: exact)
    return InjectivityCheck.run(measures, options: InjectivityOptions(directions: directions, seed: 4))
}

@Suite struct InjectivityCheckTests {
    @Test func translatesAreDependent() throws {
        for spectrum in try check(.translated, sets: 12) {
            #expect(!spectrum.injective)
            #expect(spectrum.certificate < 1e-12)
            #expect(spectrum.numericalRank == 6)  // 6 originals, 6 translates
        }
    }

    @Test func genericSetsAreIndependent() throws {
        for family in [TokenFamily.discrete, .uniform, .gaussianMixture, .gaussian] {
            for spectrum in try check(family, sets: 12) {
                #expect(spectrum.injective, "\(family.rawValue) \(spectrum.variant): \(spectrum.verdict)")
                #expect(spectrum.certificate > 1e-4)
            }
        }
    }

    @Test func singleTokensAlwaysFail() throws {
        for sets in [1, 5] {
            for spectrum in try check(.dirac, sets: sets) {
                #expect(!spectrum.injective)
                #expect((spectrum.singularValues.first ?? 1) < 1e-12)
            }
        }
    }

    @Test func exactGaussiansAreIndependentIffCovariancesAre() throws {
        for dimension in [2, 3] {
            let symmetricDimension = dimension * (dimension + 1) / 2
            for spectrum in try check(.gaussian, sets: symmetricDimension, dimension: dimension, exact: true) {
                #expect(spectrum.injective, "d = \(dimension), K = \(symmetricDimension), \(spectrum.variant): \(spectrum.verdict)")
            }
            for spectrum in try check(.gaussian, sets: symmetricDimension + 1, dimension: dimension, exact: true) {
                #expect(!spectrum.injective)
                #expect(spectrum.numericalRank == symmetricDimension)
            }
        }
    }

    @Test func certificateIsStableWhenDirectionsDouble() throws {
        for family in [TokenFamily.discrete, .gaussianMixture] {
            let coarse = try check(family, sets: 10, directions: 200)
            let fine = try check(family, sets: 10, directions: 400)
            for (a, b) in zip(coarse, fine) {
                let ratio = b.certificate / a.certificate
                #expect(ratio > 0.67 && ratio < 1.5, "\(family.rawValue) \(a.variant): \(a.certificate) → \(b.certificate)")
            }
        }
    }
}
