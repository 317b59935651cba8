using System.Collections.Immutable;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Orchestration.Meetings;
using ServerlessImaging.Orchestration.Orchestrator;

namespace ServerlessImaging.Orchestration.Ports;

// The ports the pure core needs from the outside world. Adapters (Cosmos DB, Storage queues and
// blobs, DICOMweb, SMTP) implement them in their own projects; nothing here does I/O.

/// <summary>A registration state as stored, with the ETag guarding it and its undispatched outbox.</summary>
public sealed record StoredRegistration(RegistrationState State, string ETag, ImmutableArray<OrchestrationCommand> Outbox);

/// <summary>Another writer saved the registration first; reload and apply the event again.</summary>
public sealed class ConcurrencyConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConcurrencyConflictException()
        : base("The registration state changed since it was loaded.")
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

/// <summary>
/// Persists registration states with optimistic concurrency. The state and the commands of its latest
/// transitions (the outbox) are written in one document, so "state saved, message not sent" cannot happen.
/// </summary>
public interface IRegistrationStateStore
{
    /// <summary>The stored registration, or null when there is none.</summary>
    Task<StoredRegistration?> LoadAsync(string registrationId, CancellationToken cancellationToken);

    /// <summary>
    /// Saves <paramref name="state"/> with <paramref name="outbox"/> appended to the pending commands, if the stored
    /// ETag is still <paramref name="expectedETag"/> (null: create). Returns the new ETag.
    /// </summary>
    /// <exception cref="ConcurrencyConflictException">The ETag no longer matches.</exception>
    Task<string> SaveAsync(RegistrationState state, IReadOnlyList<OrchestrationCommand> outbox, string? expectedETag, CancellationToken cancellationToken);

    /// <summary>Removes dispatched commands from the outbox (by command id); unknown ids are ignored.</summary>
    Task MarkDispatchedAsync(string registrationId, IReadOnlyCollection<string> commandIds, CancellationToken cancellationToken);
}

/// <summary>
/// Carries one outbox command out: sends relay commands, runs activities, sets timers. Must be idempotent
/// on <see cref="OrchestrationCommand.CommandId"/> (the outbox may dispatch a command more than once).
/// </summary>
public interface IOutboxDispatcher
{
    /// <summary>Dispatches one command.</summary>
    Task DispatchAsync(OrchestrationCommand command, CancellationToken cancellationToken);
}

/// <summary>A message taken from a channel, to be completed once handled or abandoned to be redelivered.</summary>
public sealed record ReceivedMessage(MessageEnvelope Envelope, string Receipt, int DeliveryCount);

/// <summary>
/// The message channel between cloud and relays (Azure Storage queues today; Service Bus could implement it).
/// One command queue per site, one event queue for all.
/// </summary>
public interface IRelayMessageChannel
{
    /// <summary>Sends a command to a site's relay.</summary>
    Task SendCommandAsync(MessageEnvelope command, CancellationToken cancellationToken);

    /// <summary>Sends an event to the cloud (used by relays).</summary>
    Task SendEventAsync(MessageEnvelope relayEvent, CancellationToken cancellationToken);

    /// <summary>Receives the next events; malformed messages go to a poison store, never silently dropped.</summary>
    IAsyncEnumerable<ReceivedMessage> ReceiveEventsAsync(CancellationToken cancellationToken);

    /// <summary>Removes a handled message.</summary>
    Task CompleteAsync(ReceivedMessage message, CancellationToken cancellationToken);
}

/// <summary>Staging blobs between relays and the store activity.</summary>
public interface IStagingStore
{
    /// <summary>A short-lived, write-only credential for everything under <paramref name="prefix"/>.</summary>
    Task<StagingCredential> CreateWriteCredentialAsync(string prefix, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Opens a staged blob for reading.</summary>
    Task<Stream> OpenReadAsync(string blobName, CancellationToken cancellationToken);

    /// <summary>Deletes everything under a prefix; returns how many blobs were deleted (0 when none).</summary>
    Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>Result of storing instances into the DICOM service.</summary>
public sealed record DicomStoreResult(int Stored, int AlreadyPresent, int Failed);

/// <summary>The cloud DICOM service (DICOMweb).</summary>
public interface IDicomStore
{
    /// <summary>Stores Part 10 instances (STOW-RS); instances already present count as success.</summary>
    Task<DicomStoreResult> StoreAsync(IReadOnlyList<Func<CancellationToken, Task<Stream>>> instances, CancellationToken cancellationToken);

    /// <summary>Deletes a study; absent is success.</summary>
    Task DeleteStudyAsync(string studyInstanceUid, CancellationToken cancellationToken);

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
    /// unreachable, temporary refusal, another attempt still in flight) throw, so the outbox retries.
    /// </summary>
    Task<EmailDelivery> SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

/// <summary>The one place time comes from; the orchestrator itself only sees event times.</summary>
public interface IClock
{
    /// <summary>Now, in UTC.</summary>
    DateTimeOffset UtcNow { get; }
}

/// <summary>Durable timers: remembers <see cref="StartDurableTimer"/> commands and hands back the due ones.</summary>
public interface IDurableTimerStore
{
    /// <summary>Schedules (idempotent on the timer id).</summary>
    Task ScheduleAsync(StartDurableTimer timer, CancellationToken cancellationToken);

    /// <summary>Timers due at <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<StartDurableTimer>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Forgets a fired timer once its event was applied.</summary>
    Task RemoveAsync(string timerId, CancellationToken cancellationToken);
}
