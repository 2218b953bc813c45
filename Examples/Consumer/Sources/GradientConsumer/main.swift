// TensorKit alone: the gradient of sum(exp(x) * x) by reverse-mode autograd, checked against
// its derivative exp(x) * (x + 1).
import Foundation
import TensorKit

let values: [Float] = [-1.5, -0.25, 0, 0.5, 2]
let x = try Tensor(shape: [values.count], scalars: values).requiringGrad()
let y = (x.exp() * x).sum()
y.backward()
let gradient = x.grad?.scalars ?? []
let expected = values.map { Foundation.exp($0) * ($0 + 1) }
let worst = zip(gradient, expected).map { abs($0 - $1) }.max() ?? .infinity
print("d/dx sum(exp(x) x) = \(gradient); largest difference from exp(x)(x + 1): \(worst)")
exit(gradient.count == values.count && worst < 1e-5 ? 0 : 1)
