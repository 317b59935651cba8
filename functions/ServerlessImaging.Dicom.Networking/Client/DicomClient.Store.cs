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
    /// C-STORE of many Part 10 files on one association. For each (SOP class, file transfer syntax) we propose one context with
    /// exactly that syntax: data sets are streamed from disk unchanged, never transcoded. When the peer refuses a context, the files
    /// needing it fail with a clear error and the others go on.
    /// </summary>
    public async Task<IReadOnlyList<StoreResult>> StoreAsync(IEnumerable<string> files, IProgress<StoreResult>? progress = null, CancellationToken ct = default)
    {
        var entries = new List<(string Path, FileMetaInfo? Meta, string? Error)>();
        foreach (var path in files)
        {
            try
            {
                await using var stream = OpenRead(path);
                entries.Add((path, await Part10Header.ReadAsync(stream, ct), null));
            }
            catch (Exception ex) when (ex is InvalidPart10FileException or IOException or UnauthorizedAccessException)
            {
                entries.Add((path, null, ex.Message));
            }
        }
        var results = new List<StoreResult>(entries.Count);
        var contexts = ProposeStorageContexts(entries.Where(e => e.Meta is not null).Select(e => e.Meta!));
        if (contexts.Count == 0)
            return [.. entries.Select(e => Report(new StoreResult(e.Path, null, DimseStatus.CannotUnderstand, e.Error ?? "not readable")))];

        await using var association = await OpenAsync(contexts, ct: ct);
        foreach (var (path, meta, error) in entries)
        {
            if (meta is null)
            {
                results.Add(Report(new StoreResult(path, null, DimseStatus.CannotUnderstand, error)));
                continue;
            }
            var pcid = ChooseContext(association, meta);
            if (pcid is null)
            {
                results.Add(Report(new StoreResult(path, meta.SopInstanceUid, DimseStatus.SopClassNotSupported,
                    $"Peer accepted no presentation context for SOP class {meta.SopClassUid} in {meta.TransferSyntaxUid}.")));
                continue;
            }
            await using var stream = OpenRead(path);
            await Part10Header.ReadAsync(stream, ct);
            var status = await StoreOneAsync(association, pcid.Value, meta.SopClassUid, meta.SopInstanceUid, stream, ct);
            results.Add(Report(new StoreResult(path, meta.SopInstanceUid, status.Status, status.ErrorComment)));
        }
        await association.ReleaseAsync(ct);
        return results;

        StoreResult Report(StoreResult r)
        {
            progress?.Report(r);
            return r;
        }
    }

    /// <summary>Sends one C-STORE-RQ with its data set read from <paramref name="dataSet"/> (already encoded in the context's syntax).</summary>
    public static async Task<DimseCommand> StoreOneAsync(DicomAssociation association, byte pcid, string sopClassUid, string sopInstanceUid, Stream dataSet, CancellationToken ct)
    {
        var messageId = association.NextMessageId();
        await association.SendCommandAsync(pcid, new DimseCommand
        {
            Field = CommandField.CStoreRequest,
            MessageId = messageId,
            AffectedSopClassUid = sopClassUid,
            AffectedSopInstanceUid = sopInstanceUid,
            HasDataSet = true,
        }.WithPriority(0), ct);
        await association.SendDataSetAsync(pcid, dataSet, ct);
        return await ExpectResponseAsync(association, CommandField.CStoreResponse, messageId, ct);
    }

    private static FileStream OpenRead(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.Asynchronous | FileOptions.SequentialScan, BufferSize = 0,
    });

    internal static List<(string, IReadOnlyList<string>)> ProposeStorageContexts(IEnumerable<FileMetaInfo> metas)
    {
        var contexts = new List<(string, IReadOnlyList<string>)>();
        var seen = new HashSet<(string, string)>();
        foreach (var meta in metas)
        {
            // One context per (SOP class, file syntax): the bytes go out unchanged, so that syntax must be the accepted one.
            if (!seen.Add((meta.SopClassUid, meta.TransferSyntaxUid))) continue;
            if (contexts.Count >= 128) throw new ArgumentException("The files need more than 128 presentation contexts; store them in smaller batches.");
            contexts.Add((meta.SopClassUid, [meta.TransferSyntaxUid]));
        }
        return contexts;
    }

    private static byte? ChooseContext(DicomAssociation association, FileMetaInfo meta)
    {
        // Only the file's own syntax is usable: we stream the bytes unchanged, so Implicit <-> Explicit would need re-encoding.
        foreach (var (id, syntax) in association.AcceptedContextsFor(meta.SopClassUid))
            if (syntax == meta.TransferSyntaxUid) return id;
        return null;
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
