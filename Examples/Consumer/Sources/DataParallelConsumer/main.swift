// DataParallel alone: four replicas (threads of one process) sum their values with the same
// collective an MPI job uses, and each checks the sum against 1 + 2 + 3 + 4 = 10. Started by
// `mpirun -np N`, the same code runs over MPI instead (MPIProcessGroup.fromEnvironment()).
import DataParallel
import Foundation

let size = 4
let members = try LocalProcessGroup.group(size: size)
final class Results: @unchecked Sendable {
    let lock = NSLock()
    var sums: [Double] = []
}
let results = Results()
let done = DispatchGroup()
for rank in 0..<size {
    done.enter()
    Thread {
        let sum = (try? members[rank].sum([Double(rank + 1)]))?.first ?? .nan
        results.lock.lock()
        results.sums.append(sum)
        results.lock.unlock()
        done.leave()
    }.start()
}
done.wait()
print("each of \(size) replicas sees the sum \(results.sums)")
exit(results.sums == Array(repeating: 10, count: size) ? 0 : 1)
