using System.Buffers.Binary;
using System.Text;

namespace ServerlessImaging.Dicom.Networking.Storage;

/// <summary>The few File Meta Information fields the network layer needs (PS3.10 7.1).</summary>
public sealed record FileMetaInfo(string SopClassUid, string SopInstanceUid, string TransferSyntaxUid);

/// <summary>A Part 10 file's meta information could not be read.</summary>
public sealed class InvalidPart10FileException : UpperLayer.DicomNetworkException
{
    public InvalidPart10FileException() { }
    public InvalidPart10FileException(string message) : base(message) { }
    public InvalidPart10FileException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Reads and writes only the Part 10 preamble and group 0002 (always Explicit VR Little Endian).
/// Streaming store needs just this: the data set that follows is sent or written byte for byte, never parsed.
/// </summary>
public static class Part10Header
{
    private const int MaxMetaLength = 64 * 1024;

    /// <summary>Reads the meta from <paramref name="stream"/>, leaving it positioned at the first data set byte.</summary>
    public static async Task<FileMetaInfo> ReadAsync(Stream stream, CancellationToken ct)
    {
        var head = new byte[132 + 12];
        var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        if (read < head.Length || head[128] != 'D' || head[129] != 'I' || head[130] != 'C' || head[131] != 'M')
            throw new InvalidPart10FileException("Not a DICOM Part 10 file (no DICM prefix after the 128-byte preamble).");
        // (0002,0000) UL FileMetaInformationGroupLength comes first and tells where the data set starts.
        var span = head.AsSpan(132);
        if (BinaryPrimitives.ReadUInt16LittleEndian(span) != 2 || BinaryPrimitives.ReadUInt16LittleEndian(span[2..]) != 0 || span[4] != 'U' || span[5] != 'L')
            throw new InvalidPart10FileException("File meta information does not start with (0002,0000) group length.");
        var groupLength = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        if (groupLength > MaxMetaLength) throw new InvalidPart10FileException("File meta information group length is implausible.");
        var meta = new byte[groupLength];
        await stream.ReadExactlyAsync(meta, ct);
        string? sopClass = null, sopInstance = null, syntax = null;
        var p = meta.AsSpan();
        while (p.Length >= 8)
        {
            var group = BinaryPrimitives.ReadUInt16LittleEndian(p);
            var element = BinaryPrimitives.ReadUInt16LittleEndian(p[2..]);
            if (group != 2) throw new InvalidPart10FileException("Non-0002 element inside the file meta group.");
            var vr = Encoding.ASCII.GetString(p.Slice(4, 2));
            int headerLength;
            uint length;
            if (vr is "OB" or "OW" or "OF" or "SQ" or "UT" or "UN" or "UC" or "UR" or "OD" or "OL" or "OV" or "SV" or "UV")
            {
                if (p.Length < 12) break;
                length = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
                headerLength = 12;
            }
            else
            {
                length = BinaryPrimitives.ReadUInt16LittleEndian(p[6..]);
                headerLength = 8;
            }
            if (length > p.Length - headerLength) throw new InvalidPart10FileException("File meta element overruns its group.");
            var value = Encoding.ASCII.GetString(p.Slice(headerLength, (int)length)).TrimEnd('\0', ' ');
            switch (element)
            {
                case 0x0002: sopClass = value; break;
                case 0x0003: sopInstance = value; break;
                case 0x0010: syntax = value; break;
            }
            p = p[(headerLength + (int)length)..];
        }
        if (string.IsNullOrEmpty(sopClass) || string.IsNullOrEmpty(sopInstance) || string.IsNullOrEmpty(syntax))
            throw new InvalidPart10FileException("File meta lacks the media storage SOP class, instance or transfer syntax.");
        return new FileMetaInfo(sopClass, sopInstance, syntax);
    }

    /// <summary>Encodes preamble, DICM and group 0002 for an instance received over the network.</summary>
    public static byte[] Encode(FileMetaInfo info, string? sourceAeTitle)
    {
        var elements = new List<(ushort Element, string Vr, byte[] Value)>
        {
            (0x0001, "OB", [0, 1]),
            (0x0002, "UI", Uid(info.SopClassUid)),
            (0x0003, "UI", Uid(info.SopInstanceUid)),
            (0x0010, "UI", Uid(info.TransferSyntaxUid)),
            (0x0012, "UI", Uid(DicomUids.ImplementationClass)),
            (0x0013, "SH", Text(DicomUids.ImplementationVersion)),
        };
        if (!string.IsNullOrWhiteSpace(sourceAeTitle)) elements.Add((0x0016, "AE", Text(sourceAeTitle.Trim())));
        var groupLength = elements.Sum(e => (e.Vr == "OB" ? 12 : 8) + e.Value.Length);
        var buffer = new byte[132 + 12 + groupLength];
        "DICM"u8.CopyTo(buffer.AsSpan(128));
        var p = buffer.AsSpan(132);
        WriteHeader(p, 0x0000, "UL", 4);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)groupLength);
        p = p[12..];
        foreach (var (element, vr, value) in elements)
        {
            var header = WriteHeader(p, element, vr, value.Length);
            value.CopyTo(p[header..]);
            p = p[(header + value.Length)..];
        }
        return buffer;
    }

    private static int WriteHeader(Span<byte> p, ushort element, string vr, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(p, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(p[2..], element);
        p[4] = (byte)vr[0];
        p[5] = (byte)vr[1];
        if (vr == "OB")
        {
            p[6] = 0; p[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)length);
            return 12;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(p[6..], (ushort)length);
        return 8;
    }

    private static byte[] Uid(string uid) => Pad(uid, 0);
    private static byte[] Text(string text) => Pad(text, (byte)' ');

    private static byte[] Pad(string s, byte pad)
    {
        var bytes = new byte[s.Length + (s.Length & 1)];
        Encoding.ASCII.GetBytes(s, bytes);
        if (bytes.Length != s.Length) bytes[^1] = pad;
        return bytes;
    }

    /// <summary>A UID is safe to use as a file name: 1-64 chars of digits and dots.</summary>
    public static bool IsValidUid(string uid) =>
        uid.Length is > 0 and <= 64 && uid.All(c => c is >= '0' and <= '9' or '.') && uid[0] != '.' && uid[^1] != '.';
}
