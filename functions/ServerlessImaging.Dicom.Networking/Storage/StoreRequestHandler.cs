using System.Buffers;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Storage;

/// <summary>Outcome of one received C-STORE (what the SCP answered).</summary>
public sealed record StoreOutcome(IncomingInstance? Instance, ushort Status, StoredInstance? Stored, string? Error);

/// <summary>
/// Performs the C-STORE SCP side of one request: streams the data set into a sink and answers C-STORE-RSP.
/// Shared by the storage SCP and the C-GET SCU (sub-operations arrive on the same association).
/// A sink failure does not break the association: the remaining fragments are drained and a failure status is returned.
/// </summary>
internal static class StoreRequestHandler
{
    public static async Task<StoreOutcome> HandleAsync(DicomAssociation association, IncomingCommand incoming, IInstanceSink sink, CancellationToken ct)
    {
        var command = incoming.Command;
        var pcid = incoming.PresentationContextId;
        var instance = new IncomingInstance(
            command.AffectedSopClassUid ?? association.AbstractSyntaxOf(pcid) ?? "",
            command.AffectedSopInstanceUid ?? "",
            association.TransferSyntaxOf(pcid),
            association.IsRequestor ? association.Request.CalledAeTitle : association.Request.CallingAeTitle);

        var state = new ReceiveState();
        try
        {
            if (!command.HasDataSet) throw new InstanceRejectedException(DimseStatus.CannotUnderstand, "C-STORE-RQ without a data set.");
            state.Writer = await sink.OpenAsync(instance, ct);
        }
        catch (InstanceRejectedException ex)
        {
            state.Status = ex.Status;
            state.Error = ex.Message;
        }
        catch (IOException ex)
        {
            state.Status = DimseStatus.OutOfResources;
            state.Error = "Storage failed: " + ex.Message;
        }

        StoredInstance? stored = null;
        try
        {
            if (command.HasDataSet)
            {
                await association.ReceiveDataSetAsync(pcid, state, static async (s, data, token) =>
                {
                    if (s.Writer is null) return; // already failed: drain
                    try
                    {
                        await s.Writer.WriteAsync(data, token);
                    }
                    catch (IOException ex)
                    {
                        s.Status = DimseStatus.OutOfResources;
                        s.Error = "Storage failed: " + ex.Message;
                        await s.Writer.DisposeAsync();
                        s.Writer = null;
                    }
                }, ct);
            }
            if (state.Writer is not null)
            {
                try
                {
                    stored = await state.Writer.CommitAsync(ct);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InstanceRejectedException)
                {
                    state.Status = ex is InstanceRejectedException r ? r.Status : DimseStatus.OutOfResources;
                    state.Error = "Storage failed: " + ex.Message;
                }
            }
        }
        finally
        {
            if (state.Writer is not null) await state.Writer.DisposeAsync();
        }

        var response = new DimseCommand
        {
            Field = CommandField.CStoreResponse,
            MessageIdBeingRespondedTo = command.MessageId,
            AffectedSopClassUid = command.AffectedSopClassUid,
            AffectedSopInstanceUid = command.AffectedSopInstanceUid,
            HasDataSet = false,
            Status = state.Status,
        };
        if (state.Error is not null) response.ErrorComment = Truncate(state.Error, 64);
        await association.SendCommandAsync(pcid, response, ct);
        return new StoreOutcome(instance, state.Status, stored, state.Error);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    private sealed class ReceiveState
    {
        public IInstanceWriter? Writer { get; set; }
        public ushort Status { get; set; } = DimseStatus.Success;
        public string? Error { get; set; }
    }
}
