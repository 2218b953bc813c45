extension AudioCNNConfig {
    /// The number of values in the state dict of the model this configuration describes
    /// (parameters, BatchNorm statistics and the `num_batches_tracked` counters), computed from
    /// the architecture without building it; `nil` when it does not fit in an `Int`.
    ///
    /// ``Checkpoint/load(from:)`` compares it with the values the file holds before allocating,
    /// so a damaged `model_config` (say, widths of a million) fails cleanly instead of
    /// exhausting memory.
    var stateValueCount: Int? {
        func batchNorm(_ c: Int) -> Int? { mul(4, c).flatMap { add($0, 1) } }
        func block(_ input: Int, _ output: Int, projection: Bool) -> Int? {
            guard let conv1 = mul(9, input, output), let conv2 = mul(9, output, output), let bn = batchNorm(output),
                var total = add(conv1, conv2, bn, bn)
            else { return nil }
            if projection {
                guard let shortcut = mul(input, output), let withShortcut = add(total, shortcut, bn) else { return nil }
                total = withShortcut
            }
            return total
        }
        guard let stemConv = mul(49, stemChannels), let stemBN = batchNorm(stemChannels),
            var total = add(stemConv, stemBN)
        else { return nil }
        var channels = stemChannels
        for (n, (depth, width)) in zip(depths, widths).enumerated() where depth > 0 {
            // The first block of a stage may project; the other depth - 1 are identical.
            guard let first = block(channels, width, projection: n > 0 || channels != width),
                let rest = block(width, width, projection: false).flatMap({ mul($0, depth - 1) }),
                let sum = add(total, first, rest)
            else { return nil }
            total = sum
            channels = width
        }
        guard let fc = mul(channels, numClasses).flatMap({ add($0, numClasses) }) else { return nil }
        return add(total, fc)
    }
}

private func mul(_ values: Int...) -> Int? {
    var product = 1
    for v in values {
        let (p, overflow) = product.multipliedReportingOverflow(by: v)
        if overflow { return nil }
        product = p
    }
    return product
}

private func add(_ values: Int...) -> Int? {
    var sum = 0
    for v in values {
        let (s, overflow) = sum.addingReportingOverflow(v)
        if overflow { return nil }
        sum = s
    }
    return sum
}
