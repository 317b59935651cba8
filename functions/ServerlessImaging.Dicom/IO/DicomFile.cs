using System.Buffers.Binary;
using System.Text;

namespace ServerlessImaging.Dicom;

/// <summary>A DICOM Part 10 file: file meta information (group 0002) plus the dataset, and the transfer syntax it was read in.</summary>
public sealed class DicomFile
{
    public DicomFile(DicomDataset dataset, DicomDataset? fileMetaInfo = null, DicomTransferSyntax? transferSyntax = null)
    {
        Dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        FileMetaInfo = fileMetaInfo ?? new DicomDataset();
        TransferSyntax = transferSyntax ?? DicomTransferSyntax.ExplicitVRLittleEndian;
    }

    public DicomDataset FileMetaInfo { get; }
    public DicomDataset Dataset { get; }

    /// <summary>The syntax the dataset was read in (for files without meta information: the detected one).</summary>
    public DicomTransferSyntax TransferSyntax { get; }

    /// <summary>False for files that had no preamble/"DICM"/group 0002 (detected by peeking at the first element).</summary>
    public bool HadFileMetaInformation { get; private init; } = true;

    // ---- reading ------------------------------------------------------------------------------------

    public static async Task<DicomFile> OpenAsync(string path, DicomReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        return await OpenAsync(fs, Path.GetFullPath(path), options, cancellationToken);
    }

    /// <summary>Reads from a stream. If it is a <see cref="FileStream"/>, large values stay in the file (lazy); otherwise everything is loaded.</summary>
    public static Task<DicomFile> OpenAsync(Stream stream, DicomReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return OpenAsync(stream, stream is FileStream fs ? fs.Name : null, options, cancellationToken);
    }

    private static async Task<DicomFile> OpenAsync(Stream stream, string? lazyPath, DicomReadOptions? options, CancellationToken ct)
    {
        options ??= DicomReadOptions.Default;
        var basePosition = stream.CanSeek ? stream.Position : 0;
        var input = new DicomInput(stream, basePosition);
        var parser = new DicomParser(input, options, lazyPath);
        var meta = new DicomDataset();
        var hasMeta = false;
        if (await input.TryEnsureAsync(132, ct) && input.Span(132)[128..].SequenceEqual("DICM"u8))
        {
            input.Advance(132);
            hasMeta = true;
        }
        else if (await input.TryEnsureAsync(4, ct) && input.Span(4).SequenceEqual("DICM"u8))
        {
            input.Advance(4);
            hasMeta = true;
        }

        DicomTransferSyntax syntax;
        if (hasMeta)
        {
            await parser.ReadDatasetAsync(meta, await DetectAsync(input, ct) is { IsExplicitVR: false } ? DicomParser.Encoding.ImplicitLittle : new DicomParser.Encoding(true, false),
                DicomParser.ToEnd, 0, 0x0002, ct);
            if (meta.TryGetString(DicomTag.TransferSyntaxUID, out var uid) && uid.Length > 0)
            {
                syntax = DicomTransferSyntax.Parse(uid);
            }
            else
            {
                syntax = await DetectAsync(input, ct);
            }
        }
        else
        {
            if (!await input.TryEnsureAsync(8, ct))
            {
                throw new DicomMalformedDataException("Not a DICOM file: too short", 0);
            }
            syntax = await DetectAsync(input, ct);
            ValidateFirstTag(input, syntax);
        }

        var dataset = new DicomDataset();
        if (syntax.IsDeflated)
        {
            await using var inflated = new System.IO.Compression.DeflateStream(input.RemainderAsStream(), System.IO.Compression.CompressionMode.Decompress);
            var inner = new DicomParser(new DicomInput(inflated), options, null);
            await inner.ReadDatasetAsync(dataset, DicomParser.Encoding.From(syntax), DicomParser.ToEnd, 0, null, ct);
        }
        else
        {
            await parser.ReadDatasetAsync(dataset, DicomParser.Encoding.From(syntax), DicomParser.ToEnd, 0, null, ct);
        }
        return new DicomFile(dataset, meta, syntax) { HadFileMetaInformation = hasMeta };
    }

    // Without meta information, the first element tells: a valid VR at bytes 4-5 means explicit VR; a group that only
    // makes sense byte-swapped means big endian.
    private static async ValueTask<DicomTransferSyntax> DetectAsync(DicomInput input, CancellationToken ct)
    {
        if (!await input.TryEnsureAsync(8, ct))
        {
            return DicomTransferSyntax.ExplicitVRLittleEndian;
        }
        var head = input.Span(8);
        var groupLe = BinaryPrimitives.ReadUInt16LittleEndian(head);
        var groupBe = BinaryPrimitives.ReadUInt16BigEndian(head);
        var explicitVR = DicomVR.TryParse(head[4], head[5], out _);
        if (explicitVR && groupLe > 0x00FF && groupBe <= 0x00FF)
        {
            return DicomTransferSyntax.ExplicitVRBigEndian;
        }
        return explicitVR ? DicomTransferSyntax.ExplicitVRLittleEndian : DicomTransferSyntax.ImplicitVRLittleEndian;
    }

    private static void ValidateFirstTag(DicomInput input, DicomTransferSyntax syntax)
    {
        var head = input.Span(8);
        var group = syntax.IsBigEndian ? BinaryPrimitives.ReadUInt16BigEndian(head) : BinaryPrimitives.ReadUInt16LittleEndian(head);
        // Datasets start with a low group (0002..0010 in practice); anything else is not DICOM.
        if (group is 0 or > 0x0100)
        {
            throw new DicomMalformedDataException("Not a DICOM file: no DICM prefix and no recognisable first element", 0);
        }
    }

    // ---- writing ------------------------------------------------------------------------------------

    /// <summary>Writes Part 10: 128-byte preamble, "DICM", file meta (group length computed), then the dataset in
    /// <paramref name="syntax"/> (default: the file's own syntax if encapsulated, else Explicit VR Little Endian).</summary>
    public async Task SaveAsync(Stream stream, DicomTransferSyntax? syntax = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        syntax ??= TransferSyntax.IsEncapsulated ? TransferSyntax : DicomTransferSyntax.ExplicitVRLittleEndian;
        if (Dataset.TryGetItem(DicomTag.PixelData, out var pixels) && pixels is DicomFragmentSequence && !syntax.IsEncapsulated)
        {
            throw new DicomUnsupportedTransferSyntaxException(
                $"Encapsulated pixel data cannot be written as {syntax.Name} without decompression, which this toolkit does not do");
        }
        var meta = BuildFileMeta(syntax);
        var metaBytes = await DicomDatasetWriter.ToBytesAsync(meta, DicomTransferSyntax.ExplicitVRLittleEndian, cancellationToken);
        var head = new byte[132 + 12];
        "DICM"u8.CopyTo(head.AsSpan(128));
        var gl = head.AsSpan(132);
        BinaryPrimitives.WriteUInt16LittleEndian(gl, 0x0002);
        BinaryPrimitives.WriteUInt16LittleEndian(gl[2..], 0x0000);
        gl[4] = (byte)'U';
        gl[5] = (byte)'L';
        BinaryPrimitives.WriteUInt16LittleEndian(gl[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(gl[8..], (uint)metaBytes.Length);
        await stream.WriteAsync(head, cancellationToken);
        await stream.WriteAsync(metaBytes, cancellationToken);
        await DicomDatasetWriter.WriteAsync(stream, Dataset, syntax, cancellationToken);
    }

    /// <summary>Writes to a path through a temporary file, so saving over the file the values are lazily read from is safe.</summary>
    public async Task SaveAsync(string path, DicomTransferSyntax? syntax = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await SaveAsync(fs, syntax, cancellationToken);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private DicomDataset BuildFileMeta(DicomTransferSyntax syntax)
    {
        var meta = new DicomDataset();
        foreach (var item in FileMetaInfo)
        {
            if (item.Tag != DicomTag.FileMetaInformationGroupLength)
            {
                meta.AddOrUpdate(item);
            }
        }
        meta.AddOrUpdate(DicomTag.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        if (!meta.Contains(DicomTag.MediaStorageSOPClassUID) && Dataset.TryGetString(DicomTag.SOPClassUID, out var cls))
        {
            meta.AddOrUpdate(DicomTag.MediaStorageSOPClassUID, DicomVR.UI, cls);
        }
        if (!meta.Contains(DicomTag.MediaStorageSOPInstanceUID) && Dataset.TryGetString(DicomTag.SOPInstanceUID, out var inst))
        {
            meta.AddOrUpdate(DicomTag.MediaStorageSOPInstanceUID, DicomVR.UI, inst);
        }
        meta.AddOrUpdate(DicomTag.TransferSyntaxUID, DicomVR.UI, syntax.Uid);
        meta.AddOrUpdate(DicomTag.ImplementationClassUID, DicomVR.UI, DicomUid.ImplementationClassUid);
        meta.AddOrUpdate(DicomTag.ImplementationVersionName, DicomVR.SH, DicomUid.ImplementationVersionName);
        return meta;
    }

    /// <summary>Convenience: the Part 10 bytes of this file.</summary>
    public async Task<byte[]> ToBytesAsync(DicomTransferSyntax? syntax = null, CancellationToken cancellationToken = default)
    {
        using var ms = new MemoryStream();
        await SaveAsync(ms, syntax, cancellationToken);
        return ms.ToArray();
    }

    public override string ToString() => $"DicomFile {TransferSyntax.Name}, {Dataset.Count} elements";
}

internal static class AsciiExtensions
{
    public static string Ascii(this ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);
}
