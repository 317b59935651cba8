using System.Runtime.CompilerServices;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Client;

/// <summary>Sub-operation counters of a C-MOVE or C-GET response.</summary>
public sealed record SubOperationProgress(int Remaining, int Completed, int Failed, int Warning);

/// <summary>Final outcome of a C-MOVE or C-GET.</summary>
public sealed record RetrieveResult(ushort Status, SubOperationProgress Progress, IReadOnlyList<StoreOutcome> Received)
{
    public bool Succeeded => DimseStatus.IsSuccess(Status) || (DimseStatus.IsWarning(Status) && Progress.Failed == 0);
}

public sealed partial class DicomClient
{
    /// <summary>
    /// C-FIND with an identifier already encoded in <paramref name="transferSyntax"/>; yields each pending response's identifier
    /// bytes in the same syntax. Breaking out early or cancelling between results sends C-CANCEL and drains to the final response.
    /// </summary>
    public async IAsyncEnumerable<byte[]> FindRawAsync(string sopClass, byte[] identifier, string transferSyntax = DicomUids.ImplicitVrLittleEndian,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var association = await OpenAsync([(sopClass, [transferSyntax])], ct: ct);
        var pcid = RequireContext(association, sopClass);
        await foreach (var data in FindOnAsync(association, pcid, sopClass, identifier, releaseWhenCancelled: true, ct))
        {
            yield return data;
        }

        await association.ReleaseAsync(ct);
    }

    /// <summary>
    /// One C-FIND on an open association: yields each pending response's identifier bytes. Stopped early (the caller broke
    /// out or was cancelled), it sends C-CANCEL and drains to the final response, then releases the association or, for a
    /// query session that goes on, keeps it.
    /// </summary>
    internal static async IAsyncEnumerable<byte[]> FindOnAsync(DicomAssociation association, byte pcid, string sopClass, byte[] identifier, bool releaseWhenCancelled,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var messageId = association.NextMessageId();
        await association.SendCommandAsync(pcid, new DimseCommand
        {
            Field = CommandField.CFindRequest, MessageId = messageId, AffectedSopClassUid = sopClass, HasDataSet = true,
        }.WithPriority(0), ct);
        await association.SendDataSetAsync(pcid, identifier, ct);

        var finished = false;
        try
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var (status, comment, data) = await ReceiveFindResponseAsync(association, messageId, ct);
                if (!DimseStatus.IsPending(status))
                {
                    finished = true;
                    if (DimseStatus.IsFailure(status)) throw new DimseFailureException(CommandField.CFindResponse, status, comment);
                    break;
                }
                if (data is not null) yield return data;
            }
        }
        finally
        {
            if (!finished && association.IsOpen) await CancelAndDrainAsync(association, pcid, messageId, releaseWhenCancelled);
        }
    }

    private static async Task<(ushort Status, string? Comment, byte[]? Data)> ReceiveFindResponseAsync(DicomAssociation association, ushort messageId, CancellationToken ct)
    {
        var incoming = await association.ReceiveCommandAsync(ct)
            ?? throw new AssociationAbortedException(AbortSource.ServiceUser, AbortReason.NotSpecified, "Peer released the association during C-FIND.");
        var command = incoming.Command;
        if (command.Field != CommandField.CFindResponse || command.MessageIdBeingRespondedTo != messageId)
            throw new DicomProtocolException(AbortReason.UnexpectedPduParameter, $"Expected C-FIND-RSP, received {command}.");
        var data = command.HasDataSet ? await association.ReceiveDataSetAsync(incoming.PresentationContextId, ct, maxBytes: 16 * 1024 * 1024) : null;
        return (command.Status, command.ErrorComment, data);
    }

    /// <summary>C-CANCEL then read responses until the final one (DIMSE timer only), then release (unless kept for further queries); abort if that fails.</summary>
    private static async Task CancelAndDrainAsync(DicomAssociation association, byte pcid, ushort messageId, bool release)
    {
        try
        {
            var cancel = new DimseCommand { Field = CommandField.CCancelRequest, MessageIdBeingRespondedTo = messageId, HasDataSet = false };
            await association.SendCommandAsync(pcid, cancel, CancellationToken.None);
            while (true)
            {
                var incoming = await association.ReceiveCommandAsync(CancellationToken.None);
                if (incoming is null) return;
                if (incoming.Command.HasDataSet) await association.ReceiveDataSetAsync(incoming.PresentationContextId, CancellationToken.None);
                if (!DimseStatus.IsPending(incoming.Command.Status)) break;
            }
            if (release) await association.ReleaseAsync(CancellationToken.None);
        }
        catch (DicomNetworkException)
        {
            await association.AbortAsync();
        }
    }

    /// <summary>C-MOVE with a pre-encoded identifier: the peer sends the matching instances to <paramref name="destinationAe"/>.</summary>
    public async Task<RetrieveResult> MoveRawAsync(string sopClass, string destinationAe, byte[] identifier, string transferSyntax = DicomUids.ImplicitVrLittleEndian,
        IProgress<SubOperationProgress>? progress = null, CancellationToken ct = default)
    {
        await using var association = await OpenAsync([(sopClass, [transferSyntax])], ct: ct);
        var pcid = RequireContext(association, sopClass);
        var messageId = association.NextMessageId();
        await association.SendCommandAsync(pcid, new DimseCommand
        {
            Field = CommandField.CMoveRequest, MessageId = messageId, AffectedSopClassUid = sopClass, HasDataSet = true, MoveDestination = destinationAe,
        }.WithPriority(0), ct);
        await association.SendDataSetAsync(pcid, identifier, ct);
        var result = await ReceiveRetrieveResponsesAsync(association, CommandField.CMoveResponse, messageId, sink: null, progress, ct);
        await association.ReleaseAsync(ct);
        return result;
    }

    /// <summary>
    /// C-GET with a pre-encoded identifier: instances come back as C-STORE sub-operations on this association (we propose the
    /// storage SOP classes with SCP role) and are streamed into <paramref name="sink"/>.
    /// </summary>
    public async Task<RetrieveResult> GetRawAsync(string sopClass, byte[] identifier, IInstanceSink sink, string transferSyntax = DicomUids.ImplicitVrLittleEndian,
        IReadOnlyList<string>? storageSopClasses = null, IReadOnlyList<string>? storageTransferSyntaxes = null,
        IProgress<SubOperationProgress>? progress = null, CancellationToken ct = default)
    {
        var classes = storageSopClasses ?? DicomUids.CommonStorageSopClasses;
        var syntaxes = storageTransferSyntaxes ?? DicomUids.CommonTransferSyntaxes;
        var contexts = new List<(string, IReadOnlyList<string>)> { (sopClass, [transferSyntax]) };
        contexts.AddRange(classes.Take(127).Select(c => (c, syntaxes)));
        var roles = classes.Take(127).Select(c => new RoleSelection(c, ScuRole: false, ScpRole: true)).ToList();
        await using var association = await OpenAsync(contexts, roles, ct);
        var pcid = RequireContext(association, sopClass);
        var messageId = association.NextMessageId();
        await association.SendCommandAsync(pcid, new DimseCommand
        {
            Field = CommandField.CGetRequest, MessageId = messageId, AffectedSopClassUid = sopClass, HasDataSet = true,
        }.WithPriority(0), ct);
        await association.SendDataSetAsync(pcid, identifier, ct);
        var result = await ReceiveRetrieveResponsesAsync(association, CommandField.CGetResponse, messageId, sink, progress, ct);
        await association.ReleaseAsync(ct);
        return result;
    }

    private static async Task<RetrieveResult> ReceiveRetrieveResponsesAsync(DicomAssociation association, CommandField responseField, ushort messageId,
        IInstanceSink? sink, IProgress<SubOperationProgress>? progress, CancellationToken ct)
    {
        var received = new List<StoreOutcome>();
        while (true)
        {
            var incoming = await association.ReceiveCommandAsync(ct)
                ?? throw new AssociationAbortedException(AbortSource.ServiceUser, AbortReason.NotSpecified, "Peer released the association during a retrieve.");
            var command = incoming.Command;
            if (command.Field == CommandField.CStoreRequest && sink is not null)
            {
                received.Add(await StoreRequestHandler.HandleAsync(association, incoming, sink, ct));
                continue;
            }
            if (command.Field != responseField || command.MessageIdBeingRespondedTo != messageId)
                throw new DicomProtocolException(AbortReason.UnexpectedPduParameter, $"Expected {responseField}, received {command}.");
            // A final failure may carry a Failed SOP Instance UID List data set; we report counts only.
            if (command.HasDataSet) await association.ReceiveDataSetAsync(incoming.PresentationContextId, ct, maxBytes: 16 * 1024 * 1024);
            var counts = new SubOperationProgress(
                command.GetUShort(DimseCommand.Tags.RemainingSubOperations) ?? 0,
                command.GetUShort(DimseCommand.Tags.CompletedSubOperations) ?? 0,
                command.GetUShort(DimseCommand.Tags.FailedSubOperations) ?? 0,
                command.GetUShort(DimseCommand.Tags.WarningSubOperations) ?? 0);
            progress?.Report(counts);
            if (DimseStatus.IsPending(command.Status)) continue;
            if (DimseStatus.IsFailure(command.Status) && counts.Completed == 0)
                throw new DimseFailureException(responseField, command.Status, command.ErrorComment);
            return new RetrieveResult(command.Status, counts, received);
        }
    }
}
