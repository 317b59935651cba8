using System.Text;
using ServerlessImaging.Dicom.Web.Multipart;

namespace ServerlessImaging.Dicom.Web.Tests.Multipart;

public class MultipartReaderTests
{
    private static async Task<List<(IReadOnlyDictionary<string, string> Headers, byte[] Body)>> ReadAll(byte[] body, string boundary, IReadOnlyList<int>? chunks = null, bool readBodies = true)
    {
        var parts = new List<(IReadOnlyDictionary<string, string>, byte[])>();
        await using var reader = new MultipartReader(new ChunkedStream(body, chunks ?? []), boundary);
        while (await reader.ReadNextPartAsync() is { } part)
        {
            using var copy = new MemoryStream();
            if (readBodies)
            {
                await part.Body.CopyToAsync(copy);
            }
            parts.Add((part.Headers, copy.ToArray()));
        }
        return parts;
    }

    private static byte[] Ascii(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public async Task Reads_parts_with_preamble_epilogue_and_padding()
    {
        var body = Ascii("This is the preamble.\r\nIgnore it.\r\n--b1 \t\r\nContent-Type: application/dicom\r\nContent-Length: 5\r\n\r\nhello\r\n--b1\r\n\r\nno headers\r\n--b1--\r\nepilogue --b1\r\n");
        var parts = await ReadAll(body, "b1");
        Assert.Equal(2, parts.Count);
        Assert.Equal("application/dicom", parts[0].Headers["content-type"]);
        Assert.Equal("hello", Encoding.ASCII.GetString(parts[0].Body));
        Assert.Empty(parts[1].Headers);
        Assert.Equal("no headers", Encoding.ASCII.GetString(parts[1].Body));
    }

    [Fact]
    public async Task Body_containing_near_boundaries_is_kept_intact()
    {
        // "\r\n--b" followed by other characters is data, as is the boundary without the leading CRLF.
        var payload = "x\r\n--bo\r\n--b\r\n-b--b\r\n-";
        var body = Ascii($"--bou\r\nContent-Type: text/plain\r\n\r\n{payload}\r\n--bou--");
        var parts = await ReadAll(body, "bou", chunks: [1]);
        Assert.Equal(payload, Encoding.Latin1.GetString(Assert.Single(parts).Body));
    }

    [Fact]
    public async Task Empty_body_part_is_read_as_empty()
    {
        var parts = await ReadAll(Ascii("--x\r\nContent-Type: a/b\r\n\r\n\r\n--x--"), "x");
        Assert.Empty(Assert.Single(parts).Body);
    }

    [Fact]
    public async Task Unread_parts_are_skipped_when_asking_for_the_next()
    {
        var body = Ascii("--x\r\nA: 1\r\n\r\n" + new string('a', 200_000) + "\r\n--x\r\nA: 2\r\n\r\nb\r\n--x--\r\n");
        var parts = await ReadAll(body, "x", readBodies: false);
        Assert.Equal(["1", "2"], parts.Select(p => p.Headers["A"]));
    }

    [Fact]
    public async Task Truncated_body_is_a_format_error()
    {
        var body = Ascii("--x\r\nContent-Type: a/b\r\n\r\nhalf a par");
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAll(body, "x"));
    }

    [Fact]
    public async Task Missing_opening_boundary_is_a_format_error()
    {
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAll(Ascii("no boundary anywhere here"), "x"));
    }

    [Fact]
    public async Task Garbage_after_boundary_is_a_format_error()
    {
        await Assert.ThrowsAsync<MultipartFormatException>(() => ReadAll(Ascii("--xyz-not-it\r\n\r\nbody\r\n--x--"), "x"));
    }

    [Fact]
    public void Content_type_parsing_reads_quoted_boundary_and_type()
    {
        var parsed = MultipartContentType.Parse("multipart/related; type=\"application/dicom\"; boundary=\"a:b c\"; transfer-syntax=*");
        Assert.Equal("a:b c", parsed.Boundary);
        Assert.Equal("application/dicom", parsed.Type);
        Assert.Equal("*", parsed.TransferSyntax);
    }

    [Theory]
    [InlineData("application/dicom")]
    [InlineData("multipart/related; type=\"application/dicom\"")]
    [InlineData("multipart/related; boundary=\"\"")]
    public void Content_type_without_usable_boundary_is_rejected(string header)
    {
        Assert.Throws<MultipartFormatException>(() => MultipartContentType.Parse(header));
    }

    [Fact]
    public void Orthanc_72_character_boundaries_are_accepted()
    {
        var orthanc = "a9b08750-3c6f-46f8-820f-5090f38b109f-59465d20-9891-4e2f-abec-a472dd3f3";
        Assert.Equal(orthanc, MultipartContentType.Parse($"multipart/related; type=\"application/dicom\"; boundary={orthanc}").Boundary);
    }
}
