using FsCheck;
using FsCheck.Fluent;
using ServerlessImaging.Dicom.Tests.Support;
using Xunit.Abstractions;

namespace ServerlessImaging.Dicom.Tests.Fuzz;

/// <summary>Random and mutated input never crashes, hangs or exhausts memory: it parses, or raises a <see cref="DicomException"/>.</summary>
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 400;
    private static readonly byte[][] Corpus = TestPaths.CorpusFiles.Select(File.ReadAllBytes).ToArray();

    private enum Outcome { Parsed, Rejected }

    private static Outcome ParseWithinDeadline(byte[] bytes)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                var file = await DicomFile.OpenAsync(new MemoryStream(bytes, writable: false));
                // Touch every value the way a consumer would, so decoding paths are fuzzed too.
                _ = DicomJson.Serialize(file.Dataset);
                _ = await file.ToBytesAsync();
                return Outcome.Parsed;
            }
            catch (DicomException)
            {
                return Outcome.Rejected;
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "parser did not finish within 10 s");
        return task.Result; // any other exception type fails the property
    }

    [Fact]
    public void Random_bytes_parse_or_raise_a_dicom_exception()
    {
        var counts = new Dictionary<Outcome, int>();
        var gen = Gen.Choose(0, 4096).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n));
        var withPrefix = gen.SelectMany(body => Gen.Elements(true, false).Select(dicm =>
            dicm ? [.. new byte[128], .. "DICM"u8.ToArray(), .. body] : body));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), Prop.ForAll(withPrefix.ToArbitrary(), (byte[] bytes) =>
        {
            var o = ParseWithinDeadline(bytes);
            counts[o] = counts.GetValueOrDefault(o) + 1;
        }));
        output.WriteLine($"random inputs: {counts.Values.Sum()} cases, {counts.GetValueOrDefault(Outcome.Parsed)} parsed, {counts.GetValueOrDefault(Outcome.Rejected)} rejected");
        Assert.Equal(Cases, counts.Values.Sum());
    }

    [Fact]
    public void Mutated_corpus_files_parse_or_raise_a_dicom_exception()
    {
        var counts = new Dictionary<Outcome, int>();
        var gen =
            from fileIndex in Gen.Choose(0, Corpus.Length - 1)
            from seed in ArbMap.Default.GeneratorFor<int>()
            from edits in Gen.Choose(1, 12)
            from truncate in Gen.Elements(true, false, false)
            select Mutate(Corpus[fileIndex], seed, edits, truncate);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases * 2), Prop.ForAll(gen.ToArbitrary(), (byte[] bytes) =>
        {
            var o = ParseWithinDeadline(bytes);
            counts[o] = counts.GetValueOrDefault(o) + 1;
        }));
        output.WriteLine($"mutated corpus: {counts.Values.Sum()} cases, {counts.GetValueOrDefault(Outcome.Parsed)} parsed, {counts.GetValueOrDefault(Outcome.Rejected)} rejected");
        Assert.Equal(Cases * 2, counts.Values.Sum());
        Assert.True(counts.GetValueOrDefault(Outcome.Rejected) > 0, "mutations never produced a rejection: the fuzzer is not reaching the checks");
    }

    [Fact]
    public void Random_element_streams_with_lying_lengths_parse_or_raise_a_dicom_exception()
    {
        // Structured noise: plausible headers (real tags and VRs, undefined lengths, item tags) with random lengths and payloads,
        // so that the parser gets past the first element and exercises sequences, fragments and length checks.
        string[] vrs = ["OB", "OW", "SQ", "UN", "UT", "LO", "PN", "US", "UL", "FD", "AT", "DS", "CS", "LO", "OB", "XX"];
        ushort[][] tags = [[0x0008, 0x0005], [0x0010, 0x0010], [0x0028, 0x0010], [0x0040, 0xA730], [0x7FE0, 0x0010], [0xFFFE, 0xE000], [0xFFFE, 0xE00D], [0xFFFE, 0xE0DD], [0x0029, 0x1010]];
        var element =
            from tag in Gen.Elements(tags)
            from vr in Gen.Elements(vrs)
            from size in Gen.Choose(0, 16).Select(n => n * 2)
            from payload in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), size)
            from length in Gen.Frequency((6, Gen.Constant(size)), (1, Gen.Constant(-1)), (1, Gen.Choose(0, int.MaxValue)))
            select Header(tag[0], tag[1], vr, length).Concat(payload).ToArray();
        var stream = Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(element, n)).Select(parts => parts.SelectMany(p => p).ToArray());
        var counts = new Dictionary<Outcome, int>();
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), Prop.ForAll(stream.ToArbitrary(), (byte[] body) =>
        {
            var o = ParseWithinDeadline([.. new byte[128], .. "DICM"u8.ToArray(), .. body]);
            counts[o] = counts.GetValueOrDefault(o) + 1;
        }));
        output.WriteLine($"random element streams: {counts.Values.Sum()} cases, {counts.GetValueOrDefault(Outcome.Parsed)} parsed, {counts.GetValueOrDefault(Outcome.Rejected)} rejected");
        Assert.Equal(Cases, counts.Values.Sum());
        Assert.True(counts.GetValueOrDefault(Outcome.Parsed) > 0, "no structured input parsed: the generator is not reaching past the header checks");
    }

    private static byte[] Header(ushort group, ushort element, string vr, int length)
    {
        var head = new byte[12];
        BitConverter.TryWriteBytes(head.AsSpan(0), group);
        BitConverter.TryWriteBytes(head.AsSpan(2), element);
        if (group == 0xFFFE)
        {
            BitConverter.TryWriteBytes(head.AsSpan(4), length);
            return head[..8];
        }
        head[4] = (byte)vr[0];
        head[5] = (byte)vr[1];
        if (vr is "OB" or "OW" or "SQ" or "UN" or "UT")
        {
            BitConverter.TryWriteBytes(head.AsSpan(8), length);
            return head;
        }
        BitConverter.TryWriteBytes(head.AsSpan(6), (ushort)length);
        return head[..8];
    }

    private static byte[] Mutate(byte[] original, int seed, int edits, bool truncate)
    {
        var rng = new Random(seed);
        var bytes = (byte[])original.Clone();
        for (var i = 0; i < edits; i++)
        {
            var at = rng.Next(bytes.Length);
            // Bias toward lengths and tags: overwrite with extreme values as well as random ones.
            bytes[at] = rng.Next(4) switch { 0 => 0xFF, 1 => 0x00, _ => (byte)rng.Next(256) };
        }
        return truncate ? bytes[..rng.Next(bytes.Length)] : bytes;
    }
}
