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
