using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Client;

/// <summary>Result of one C-STORE sub-operation sent by the SCU.</summary>
public sealed record StoreResult(string Path, string? SopInstanceUid, ushort Status, string? Error)
{
    public bool Succeeded => DimseStatus.IsSuccess(Status) || DimseStatus.IsWarning(Status);
}

public sealed partial class DicomClient
{
    /// <summary>
    /// C-STORE of many Part 10 files on one association. For each (SOP class, file transfer syntax) we propose a context with
    /// exactly that syntax, whose data sets are streamed from disk unchanged. For uncompressed little/big endian files we also
    /// propose, per SOP class, a fallback context offering Explicit and Implicit VR Little Endian: when the peer refuses the
    /// file's own syntax, the data set is re-encoded on the fly (streamed, large values read from the file as they are sent).
    /// Compressed data is never transcoded. When no usable context was accepted, or a file cannot be read, that file fails with
    /// a clear error and the others go on (on a new association if the failure broke the current one).
    /// </summary>
    public async Task<IReadOnlyList<StoreResult>> StoreAsync(IEnumerable<string> files, IProgress<StoreResult>? progress = null, CancellationToken ct = default)
    {
        var entries = new List<(string Path, FileMetaInfo? Meta, long DataSetOffset, string? Error)>();
        foreach (var path in files)
        {
            try
            {
                await using var stream = OpenRead(path);
                var meta = await Part10Header.ReadAsync(stream, ct);
                entries.Add((path, meta, stream.Position, null));
            }
            catch (Exception ex) when (ex is InvalidPart10FileException or IOException or UnauthorizedAccessException)
            {
                entries.Add((path, null, 0, ex.Message));
            }
        }
        var results = new List<StoreResult>(entries.Count);
        var contexts = ProposeStorageContexts(entries.Where(e => e.Meta is not null).Select(e => e.Meta!));
        if (contexts.Count == 0)
            return [.. entries.Select(e => Report(new StoreResult(e.Path, null, DimseStatus.CannotUnderstand, e.Error ?? "not readable")))];

        DicomAssociation? association = null;
        try
        {
            foreach (var (path, meta, dataSetOffset, error) in entries)
            {
                if (meta is null)
                {
                    results.Add(Report(new StoreResult(path, null, DimseStatus.CannotUnderstand, error)));
                    continue;
                }
                association ??= await OpenAsync(contexts, ct: ct);
                var choice = ChooseContext(association, meta);
                if (choice is not { } chosen)
                {
                    results.Add(Report(new StoreResult(path, meta.SopInstanceUid, DimseStatus.SopClassNotSupported,
                        $"Peer accepted no presentation context for SOP class {meta.SopClassUid} in {meta.TransferSyntaxUid} or a re-encodable syntax.")));
                    continue;
                }
                try
                {
                    var status = chosen.Syntax == meta.TransferSyntaxUid
                        ? await SendUnchangedAsync(association, chosen.Id, meta, path, dataSetOffset, ct)
                        : await SendReencodedAsync(association, chosen.Id, meta, chosen.Syntax, path, ct);
                    results.Add(Report(new StoreResult(path, meta.SopInstanceUid, status.Status, status.ErrorComment)));
                }
                catch (Exception ex) when (ex is DicomException or IOException or UnauthorizedAccessException)
                {
                    // The file could not be read or re-encoded. If bytes had already left, the association was aborted: reopen for the rest.
                    results.Add(Report(new StoreResult(path, meta.SopInstanceUid, DimseStatus.CannotUnderstand, "File could not be sent: " + ex.Message)));
                    if (!association.IsOpen)
                    {
                        await association.DisposeAsync();
                        association = null;
                    }
                }
            }
            if (association is not null) await association.ReleaseAsync(ct);
        }
        finally
        {
            if (association is not null) await association.DisposeAsync();
        }
        return results;

        StoreResult Report(StoreResult r)
        {
            progress?.Report(r);
            return r;
        }
    }

    private static async Task<DimseCommand> SendUnchangedAsync(DicomAssociation association, byte pcid, FileMetaInfo meta, string path, long dataSetOffset, CancellationToken ct)
    {
        // The header was parsed in the first pass: seek straight to the data set instead of reading it again.
        await using var stream = OpenRead(path);
        stream.Seek(dataSetOffset, SeekOrigin.Begin);
        return await StoreOneAsync(association, pcid, meta.SopClassUid, meta.SopInstanceUid, stream, ct);
    }

    private static async Task<DimseCommand> SendReencodedAsync(DicomAssociation association, byte pcid, FileMetaInfo meta, string targetSyntax, string path, CancellationToken ct)
    {
        // Parsed before anything is sent, so a malformed file fails alone. Values of 64 KiB and more stay in the file and are
        // streamed from it by the writer: memory stays at one PDU batch plus the small elements, whatever the pixel data size.
        var file = await DicomFile.OpenAsync(path, cancellationToken: ct);
        var target = DicomTransferSyntax.Parse(targetSyntax);
        var messageId = association.NextMessageId();
        await association.SendCommandAndDataSetAsync(pcid, StoreRequest(messageId, meta.SopClassUid, meta.SopInstanceUid),
            (output, token) => DicomDatasetWriter.WriteAsync(output, file.Dataset, target, token), ct);
        return await ExpectResponseAsync(association, CommandField.CStoreResponse, messageId, ct);
    }

    /// <summary>Sends one C-STORE-RQ with its data set read from <paramref name="dataSet"/> (already encoded in the context's syntax).</summary>
    public static async Task<DimseCommand> StoreOneAsync(DicomAssociation association, byte pcid, string sopClassUid, string sopInstanceUid, Stream dataSet, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(association);
        var messageId = association.NextMessageId();
        // Command and first data batch leave in one socket write; the response is the only thing we wait for (no async ops negotiated).
        await association.SendCommandAndDataSetAsync(pcid, StoreRequest(messageId, sopClassUid, sopInstanceUid), dataSet, ct);
        return await ExpectResponseAsync(association, CommandField.CStoreResponse, messageId, ct);
    }

    private static DimseCommand StoreRequest(ushort messageId, string sopClassUid, string sopInstanceUid) => new DimseCommand
    {
        Field = CommandField.CStoreRequest,
        MessageId = messageId,
        AffectedSopClassUid = sopClassUid,
        AffectedSopInstanceUid = sopInstanceUid,
        HasDataSet = true,
    }.WithPriority(0);

    private static FileStream OpenRead(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.SequentialScan, BufferSize = 0,
    });

    /// <summary>Uncompressed syntaxes whose data sets we can re-encode to Explicit/Implicit VR Little Endian.</summary>
    internal static bool IsReencodable(string transferSyntax) =>
        transferSyntax is DicomUids.ExplicitVrLittleEndian or DicomUids.ImplicitVrLittleEndian or ExplicitVrBigEndian;

    private const string ExplicitVrBigEndian = "1.2.840.10008.1.2.2";

    internal static List<(string, IReadOnlyList<string>)> ProposeStorageContexts(IEnumerable<FileMetaInfo> metas)
    {
        var exact = new List<(string, IReadOnlyList<string>)>();
        var seen = new HashSet<(string, string)>();
        var fallbackClasses = new List<string>();
        foreach (var meta in metas)
        {
            // One context per (SOP class, file syntax) offering only that syntax: when accepted, the bytes go out unchanged.
            if (!seen.Add((meta.SopClassUid, meta.TransferSyntaxUid))) continue;
            if (exact.Count >= 128) throw new ArgumentException("The files need more than 128 presentation contexts; store them in smaller batches.");
            exact.Add((meta.SopClassUid, [meta.TransferSyntaxUid]));
            if (IsReencodable(meta.TransferSyntaxUid) && !fallbackClasses.Contains(meta.SopClassUid)) fallbackClasses.Add(meta.SopClassUid);
        }
        // Fallbacks (re-encoding) only while there is room: they are an extra chance, never a reason to fail.
        foreach (var sopClass in fallbackClasses)
        {
            if (exact.Count >= 128) break;
            exact.Add((sopClass, DicomUids.UncompressedTransferSyntaxes));
        }
        return exact;
    }

    /// <summary>The accepted context to use for a file: one in the file's own syntax, else (uncompressed files) one to re-encode into.</summary>
    internal static (byte Id, string Syntax)? ChooseContext(DicomAssociation association, FileMetaInfo meta)
    {
        (byte, string)? reencode = null;
        foreach (var (id, syntax) in association.AcceptedContextsFor(meta.SopClassUid))
        {
            if (syntax == meta.TransferSyntaxUid) return (id, syntax);
            if (reencode is null && IsReencodable(meta.TransferSyntaxUid) && DicomUids.IsUncompressedLittleEndian(syntax)) reencode = (id, syntax);
        }
        return reencode;
    }
}

internal static class DimseCommandExtensions
{
    public static DimseCommand WithPriority(this DimseCommand command, ushort priority)
    {
        command.SetUShort(DimseCommand.Tags.Priority, priority);
        return command;
    }
}
