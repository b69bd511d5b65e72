using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NmsOp = NativeSeg.Kernels.Nms.Nms;

namespace NativeSeg.Kernels.Candidates;

internal static class CandidatesChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new ProposalChain("candidates/rpn-filter-nms-take", 600, 3, 250),
        new ProposalChain("candidates/take-more-than-ranked", 40, 1, 64),
        new GridChain("candidates/box-grid-rows-background", 12, 6, 9, 20),
        new GridChain("candidates/box-grid-no-rows-pass", 5, 4, 0, 8),
        new ProposalChain("candidates/cut-keeping-ties-80-slots", 300, 3, 40, scoreLevels: 10, tiedSlots: 80),
        new ProposalChain("candidates/cut-keeping-ties-42-slots", 300, 3, 40, scoreLevels: 10, tiedSlots: 42),
    ];

    /// <summary>
    /// Boxes from the NMS checks with NaN, negative and tied scores and a small-box mask; filtered (≥ 0), NMS'd
    /// by class and the first k passing survivors taken, as the RPN does per image — or, with
    /// <paramref name="tiedSlots"/>, cut to k keeping the ties with the last in that many slots, with the count the
    /// cut keeps, as FCOS's kthvalue cut (scores in <paramref name="scoreLevels"/> steps, so many tie).
    /// </summary>
    private sealed class ProposalChain(string name, int n, int classCount, int k, int scoreLevels = 16, int? tiedSlots = null) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var (b, s, c) = Nms.NmsChecks.RandomDetections(n, n, classCount, scoreLevels);
            var keepMask = new byte[n];
            for (int i = 0; i < n; i++)
            {
                if (i % 13 == 5) s[i] = float.NaN;
                if (i % 17 == 3) s[i] = -0.25f;
                keepMask[i] = (byte)(i % 11 == 4 ? 0 : 1);
            }
            using var boxes = RandomTensors.OnDevice(Tensor.FromArray(b, n, 4), device);
            using var scores = RandomTensors.OnDevice(Tensor.FromArray(s, n), device);
            using var classes = RandomTensors.OnDevice(Tensor.FromArray(c, n), device);
            using var keep = RandomTensors.OnDevice(Tensor.FromArray(keepMask, n), device);
            var (filtered, filteredClasses) = Candidates.Filter(scores, keep, classes, null, new CandidateRule(0, Strict: false));
            var (order, count) = NmsOp.BatchedPadded(boxes, filtered, filteredClasses, 0.6f);
            using (count)
            using (order)
            {
                var (taken, kept) = tiedSlots is { } slots ? Candidates.TakeKeepingTies(order, filtered, k, slots) : (Candidates.Take(order, filtered, k), (Tensor?)null);
                using (taken)
                using (kept)
                {
                    return [RandomTensors.ToCpu(filtered), RandomTensors.ToCpu(filteredClasses), taken.Index.To(Device.Cpu),
                        taken.Select.To(Device.Cpu), taken.Column.To(Device.Cpu), taken.Row.To(Device.Cpu), taken.Count.To(Device.Cpu),
                        .. kept is null ? [] : new[] { kept.To(Device.Cpu) }];
                }
            }
        }
    }

    /// <summary>
    /// A [rows, perRow] class grid as the box head makes it: rows past a device-side count and column 0 fail, scores
    /// must exceed 0.3; each class segment's survivors (a shuffled subset) become kept scores, which are ranked and taken.
    /// </summary>
    private sealed class GridChain(string name, int rows, int perRow, long validRows, int k) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            int n = rows * perRow;
            using var scores = RandomTensors.Integers(device, 5, 0, 10, rows, perRow);
            using var scaled = Elementwise.Arithmetic.Affine(scores, 0.1f, 0);
            using var count = RandomTensors.OnDevice(Tensor.FromArray(new[] { validRows }, 1), device);
            var (filtered, classes) = Candidates.Filter(scaled, null, null, count, new CandidateRule(0.3f, Strict: true, perRow, SkipColumn: 0));
            var rng = new Random(rows);
            var keepLists = new long[n];
            for (int seg = 0; seg < perRow; seg++)
            {
                var members = Enumerable.Range(0, rows).OrderBy(_ => rng.Next()).Take(rng.Next(rows + 1)).ToArray();
                for (int i = 0; i < rows; i++) keepLists[seg * rows + i] = i < members.Length ? members[i] : -1;
            }
            using var keep = RandomTensors.OnDevice(Tensor.FromArray(keepLists, perRow, rows), device);
            using var segmentScores = Transpose.Transpose.LastTwo(filtered.Reshape(rows, perRow));
            using var kept = Candidates.KeptScores(keep, segmentScores);
            using var byRow = Transpose.Transpose.LastTwo(kept);
            using var flat = byRow.Reshape(n);
            var (values, order) = Selection.TopK.LastDim(flat, Math.Min(k, n));
            using (values)
            using (order)
            using (var taken = Candidates.Take(order, flat, k, perRow))
            {
                filtered.Dispose();
                return [RandomTensors.ToCpu(classes), kept.To(Device.Cpu), taken.Index.To(Device.Cpu), taken.Select.To(Device.Cpu),
                    taken.Column.To(Device.Cpu), taken.Row.To(Device.Cpu), taken.Count.To(Device.Cpu)];
            }
        }
    }

}
