using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Client;

/// <summary>
/// DIMSE SCU: each operation opens one association, performs the operation and releases (or aborts on failure).
/// </summary>
public sealed partial class DicomClient(DicomClientOptions options)
{
    public DicomClientOptions Options { get; } = options;

    /// <summary>Opens an association proposing the given contexts (ids assigned 1, 3, 5...).</summary>
    public Task<DicomAssociation> OpenAsync(IEnumerable<(string AbstractSyntax, IReadOnlyList<string> TransferSyntaxes)> contexts,
        IReadOnlyList<RoleSelection>? roles = null, CancellationToken ct = default)
    {
        var proposals = new List<PresentationContextProposal>();
        var id = 1;
        foreach (var (abstractSyntax, syntaxes) in contexts)
        {
            if (id > 255) throw new ArgumentException("At most 128 presentation contexts can be proposed.", nameof(contexts));
            proposals.Add(new PresentationContextProposal((byte)id, abstractSyntax, syntaxes));
            id += 2;
        }
        var request = new AssociateRequest
        {
            CalledAeTitle = Options.CalledAeTitle,
            CallingAeTitle = Options.CallingAeTitle,
            PresentationContexts = proposals,
            MaxPduLength = Options.Association.MaxPduLength,
            RoleSelections = roles ?? [],
            UserIdentity = Options.UserIdentity,
        };
        return DicomAssociation.ConnectAsync(Options.Host, Options.Port, request, Options.Association, ct);
    }

    /// <summary>C-ECHO; returns the status (0x0000 on success) or throws a typed exception.</summary>
    public async Task<ushort> EchoAsync(CancellationToken ct = default)
    {
        await using var association = await OpenAsync([(DicomUids.Verification, DicomUids.UncompressedTransferSyntaxes)], ct: ct);
        var pcid = RequireContext(association, DicomUids.Verification);
        var messageId = association.NextMessageId();
        await association.SendCommandAsync(pcid, new DimseCommand
        {
            Field = CommandField.CEchoRequest,
            MessageId = messageId,
            AffectedSopClassUid = DicomUids.Verification,
            HasDataSet = false,
        }, ct);
        var response = await ExpectResponseAsync(association, CommandField.CEchoResponse, messageId, ct);
        await association.ReleaseAsync(ct);
        return response.Status;
    }

    internal static byte RequireContext(DicomAssociation association, string abstractSyntax)
    {
        foreach (var (id, _) in association.AcceptedContextsFor(abstractSyntax)) return id;
        var answer = association.Accept.PresentationContexts.FirstOrDefault(a => association.AbstractSyntaxOf(a.Id) == abstractSyntax);
        throw new PresentationContextNotAcceptedException(abstractSyntax, answer is null ? "not answered" : answer.Result.ToString());
    }

    /// <summary>Reads the next command and checks it is the response we wait for; a data set attached to it is skipped.</summary>
    internal static async Task<DimseCommand> ExpectResponseAsync(DicomAssociation association, CommandField field, ushort messageId, CancellationToken ct)
    {
        var incoming = await association.ReceiveCommandAsync(ct)
            ?? throw new AssociationAbortedException(AbortSource.ServiceUser, AbortReason.NotSpecified, "Peer released the association while a response was pending.");
        var command = incoming.Command;
        if (command.Field != field || command.MessageIdBeingRespondedTo != messageId)
        {
            await association.AbortAsync(AbortSource.ServiceProvider, AbortReason.UnexpectedPduParameter);
            throw new DicomProtocolException(AbortReason.UnexpectedPduParameter, $"Expected {field} to message {messageId}, received {command}.");
        }
        if (command.HasDataSet) await association.ReceiveDataSetAsync(incoming.PresentationContextId, ct, maxBytes: 16 * 1024 * 1024);
        return command;
    }
}
