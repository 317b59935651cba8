using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessImaging.Dicom.Web.Multipart;

namespace ServerlessImaging.Dicom.Web.Tests.Multipart;

public class MultipartRoundTripProperties
{
    // Bodies built from a small alphabet full of CR, LF and '-' so boundary look-alikes are common.
    private static readonly byte[] Alphabet = "\r\n-bB0"u8.ToArray();

    private static Gen<byte[]> Bodies =>
        Gen.ListOf(Gen.Elements(Alphabet.AsEnumerable())).Select(l => l.ToArray());

    private static async Task<List<byte[]>> WriteThenRead(IReadOnlyList<byte[]> bodies, string boundary, IReadOnlyList<int> chunks)
    {
        using var wire = new MemoryStream();
        var writer = new MultipartWriter(wire, boundary);
        foreach (var body in bodies)
        {
            await writer.WritePartAsync("application/dicom", body);
        }
        await writer.CompleteAsync();

        var read = new List<byte[]>();
        await using var reader = new MultipartReader(new ChunkedStream(wire.ToArray(), chunks), boundary);
        while (await reader.ReadNextPartAsync() is { } part)
        {
            Assert.Equal("application/dicom", part.ContentType);
            using var copy = new MemoryStream();
            var buffer = new byte[1 + (chunks.Count > 0 ? chunks[0] % 7 : 3)]; // tiny reads on purpose
            int n;
            while ((n = await part.Body.ReadAsync(buffer)) > 0)
            {
                copy.Write(buffer, 0, n);
            }
            read.Add(copy.ToArray());
        }
        return read;
    }

    [Property(MaxTest = 300)]
    public Property Any_chunking_yields_the_parts_that_were_written()
    {
        var gen =
            from bodies in Gen.NonEmptyListOf(Bodies)
            from chunks in Gen.ListOf(Gen.Choose(1, 40))
            from boundary in Gen.Elements("b", "bB", "-b-", "0", MultipartBoundary.Create())
            select (bodies, chunks, boundary);
        // A writer must pick a boundary absent from the bodies; inputs where it occurs are not valid multipart.
        gen = gen.Where(x => !x.bodies.Any(b => b.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes("\r\n--" + x.boundary)) >= 0));
        return Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var read = WriteThenRead([.. input.bodies], input.boundary, [.. input.chunks]).GetAwaiter().GetResult();
            return read.Count == input.bodies.Count && read.Zip(input.bodies).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        });
    }

    [Fact]
    public async Task Large_binary_parts_survive_the_round_trip()
    {
        var random = new Random(7);
        var bodies = Enumerable.Range(0, 5).Select(i => { var b = new byte[300_000 + i]; random.NextBytes(b); return b; }).ToList();
        var read = await WriteThenRead(bodies, MultipartBoundary.Create(), [65_536, 3, 1_000]);
        Assert.Equal(bodies.Count, read.Count);
        for (var i = 0; i < bodies.Count; i++)
        {
            Assert.True(bodies[i].AsSpan().SequenceEqual(read[i]), $"part {i} differs");
        }
    }
}
