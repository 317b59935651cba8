using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Ports;

// The ports the pure core needs from the outside world. Adapters (Cosmos DB, Storage queues and
// blobs, DICOMweb, SMTP) implement them in their own projects; nothing here does I/O.

/// <summary>
/// The API's read model of registrations: the state each step of a registration's orchestration reached, written by
/// that step's activity. Steps may be recorded out of order (a retried activity), so the highest version wins.
/// </summary>
public interface IRegistrationViewStore
{
    /// <summary>
    /// The latest recorded state as the API shows it, or null when the registration is unknown: each study in transfer
    /// (<see cref="StudyStatus.Retrieving"/> with a <see cref="SelectedStudy.CurrentCommandId"/>) shows the progress its
    /// transfer last recorded (<see cref="StudyTransferProgress.OverlayOn"/>). Not a state to apply events to: see
    /// <see cref="LoadRecordedAsync"/>.
    /// </summary>
    Task<RegistrationState?> LoadAsync(string registrationId, CancellationToken cancellationToken);

    /// <summary>
    /// The latest state the registration itself recorded, without its transfers' progress, or null when the registration
    /// is unknown: what a preview of an event applies to, and what may be saved back.
    /// </summary>
    Task<RegistrationState?> LoadRecordedAsync(string registrationId, CancellationToken cancellationToken);

    /// <summary>Records <paramref name="state"/> unless a state of a higher version is recorded already.</summary>
    Task SaveAsync(RegistrationState state, CancellationToken cancellationToken);
}

/// <summary>
/// The progress of studies' transfers (each a sub-orchestration of the registration), as each last recorded it for
/// the API. Recorded by at-least-once activities, so a step may be recorded again or late: the highest
/// <see cref="StudyTransferProgress.Version"/> of a transfer wins. The registration's read model overlays the progress
/// of its studies' current transfers (<see cref="IRegistrationViewStore.LoadAsync"/>).
/// </summary>
public interface IStudyTransferProgressStore
{
    /// <summary>
    /// Records <paramref name="progress"/> unless a higher <see cref="StudyTransferProgress.Version"/> of the same transfer
    /// is recorded already (the same version again replaces it).
    /// </summary>
    Task SaveAsync(StudyTransferProgress progress, CancellationToken cancellationToken);

    /// <summary>The progress <paramref name="transferId"/> last recorded, or null when it recorded none.</summary>
    Task<StudyTransferProgress?> LoadAsync(string transferId, CancellationToken cancellationToken);
}

/// <summary>Another writer saved the document first (a stale ETag); reload and try again.</summary>
public sealed class ConcurrencyConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConcurrencyConflictException()
        : base("The document changed since it was loaded.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ConcurrencyConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ConcurrencyConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A message taken from a channel, to be completed once handled or abandoned to be redelivered.</summary>
/// <param name="Envelope">The message.</param>
/// <param name="Receipt">Hands the message's lease back when it is completed or quarantined.</param>
/// <param name="DeliveryCount">How many times it was delivered, this time included.</param>
/// <param name="QueueSiteId">The site whose events queue it was read from: the only site it may speak for.</param>
public sealed record ReceivedMessage(MessageEnvelope Envelope, string Receipt, int DeliveryCount, string QueueSiteId);

/// <summary>
/// The message channel between cloud and relays (Azure Storage queues today; Service Bus could implement it).
/// One command queue and one events queue per site; a relay can send only to its own site's events queue.
/// </summary>
public interface IRelayMessageChannel
{
    /// <summary>Sends a command to a site's relay.</summary>
    Task SendCommandAsync(MessageEnvelope command, CancellationToken cancellationToken);

    /// <summary>Receives the next events from every site's events queue; malformed messages go to a poison store, never silently dropped.</summary>
    IAsyncEnumerable<ReceivedMessage> ReceiveEventsAsync(CancellationToken cancellationToken);

    /// <summary>Removes a handled message.</summary>
    Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Staging blobs between relays and the store activity: one container per site, which only that site's relay can write
/// to (with a credential minted per command) and only the cloud can read, list and delete.
/// </summary>
public interface IStagingStore
{
    /// <summary>A short-lived credential to create and write blobs in <paramref name="siteId"/>'s staging (no read, list or delete).</summary>
    Task<StagingCredential> CreateWriteCredentialAsync(string siteId, string prefix, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>The container name a command's credential is for.</summary>
    string ContainerOf(string siteId);

    /// <summary>Opens a blob staged by <paramref name="siteId"/>'s relay for reading.</summary>
    Task<Stream> OpenReadAsync(string siteId, string blobName, CancellationToken cancellationToken);

    /// <summary>Deletes everything under a prefix in every site's staging (a study may have been tried at several sites); returns how many blobs were deleted.</summary>
    Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>
/// The app's own blobs of staged-instance lists (<see cref="StagedInstanceList"/>): written by the app when a relay
/// reports them, read by the store activities, deleted with the study. No relay can reach them.
/// </summary>
public interface IStagedInstanceListStore
{
    /// <summary>Keeps <paramref name="instances"/> and returns their reference; writing the same list again is harmless.</summary>
    Task<StagedInstanceListReference> SaveAsync(string registrationId, string studyInstanceUid, IReadOnlyList<StagedInstance> instances, CancellationToken cancellationToken);

    /// <summary>The list, checked against its reference (<see cref="StagedInstanceListMismatchException"/> when it is not that list or is gone).</summary>
    Task<IReadOnlyList<StagedInstance>> ReadAsync(StagedInstanceListReference reference, CancellationToken cancellationToken);

    /// <summary>Deletes every list under a prefix (<see cref="StagedInstanceList.Prefix(string)"/> or <see cref="StagedInstanceList.Prefix(string, string)"/>); returns how many.</summary>
    Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>Result of storing instances into the DICOM service.</summary>
public sealed record DicomStoreResult(int Stored, int AlreadyPresent, int Failed);

/// <summary>The cloud DICOM service (DICOMweb).</summary>
public interface IDicomStore
{
    /// <summary>Stores Part 10 instances of one study (STOW-RS to that study: the service refuses any other); instances already present count as success.</summary>
    Task<DicomStoreResult> StoreAsync(string studyInstanceUid, IReadOnlyList<Func<CancellationToken, Task<Stream>>> instances, CancellationToken cancellationToken);

    /// <summary>Deletes a study; absent is success.</summary>
    Task DeleteStudyAsync(string studyInstanceUid, CancellationToken cancellationToken);

    /// <summary>Deletes one instance; absent is success.</summary>
    Task DeleteInstanceAsync(string studyInstanceUid, string seriesInstanceUid, string sopInstanceUid, CancellationToken cancellationToken);

    /// <summary>One small instance as Part 10 bytes (WADO-RS), or null when absent; refuses one larger than <paramref name="maxBytes"/>.</summary>
    Task<byte[]?> ReadInstanceAsync(string studyInstanceUid, string seriesInstanceUid, string sopInstanceUid, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Link a viewer opens the study with.</summary>
    Uri ViewerLinkFor(string studyInstanceUid);
}

/// <summary>Append-only audit trail.</summary>
public interface IAuditSink
{
    /// <summary>Appends a record; idempotent on <see cref="OrchestrationCommand.CommandId"/>.</summary>
    Task WriteAsync(WriteAuditActivity record, CancellationToken cancellationToken);
}

/// <summary>An e-mail to send (text only; secure-messaging relays reject rich content anyway).</summary>
public sealed record EmailMessage(string MessageId, IReadOnlyList<Physician> To, string Subject, string TextBody);

/// <summary>What became of an e-mail, for the audit trail.</summary>
public enum EmailDeliveryOutcome
{
    /// <summary>The relay accepted it now.</summary>
    Sent,

    /// <summary>An earlier attempt had it accepted: nothing sent again.</summary>
    AlreadySent,

    /// <summary>An earlier attempt never confirmed (it may have crashed after the relay accepted): not resent.</summary>
    Unconfirmed,

    /// <summary>The relay refused it for good (permanent SMTP error): retrying cannot help.</summary>
    Rejected,
}

/// <summary>The outcome of a send; <paramref name="ReasonCode"/> (e.g. <c>smtp_550</c>) is set for failures and free of patient data.</summary>
public sealed record EmailDelivery(EmailDeliveryOutcome Outcome, string? ReasonCode = null)
{
    /// <summary>True when the relay accepted the message, now or before.</summary>
    public bool Delivered => Outcome is EmailDeliveryOutcome.Sent or EmailDeliveryOutcome.AlreadySent;
}

/// <summary>Outgoing e-mail (SMTP with TLS in production).</summary>
public interface IEmailSender
{
    /// <summary>
    /// Sends at most once per <see cref="EmailMessage.MessageId"/> and says what happened. Transient failures (relay
    /// unreachable, temporary refusal, another attempt still in flight) throw, so the engine retries.
    /// </summary>
    Task<EmailDelivery> SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
