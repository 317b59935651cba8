namespace ServerlessImaging.Contracts.Messages;

/// <summary>
/// One message between the cloud and a relay. The wire form is a JSON object whose <c>type</c>
/// names the body's record (see <see cref="MessageTypes"/>); <see cref="MessageCodec"/> reads and writes it.
/// </summary>
/// <param name="MessageId">Unique id of this message; receivers deduplicate on it. Commands use the orchestrator's deterministic command id.</param>
/// <param name="CorrelationId">The registration (or operation) the message belongs to.</param>
/// <param name="CausationId">For an event, the message id of the command it answers; null for commands and heartbeats.</param>
/// <param name="SiteId">The PACS site (and so the relay) the message is for or from.</param>
/// <param name="SentAt">When the sender created the message (sender's clock).</param>
/// <param name="SchemaVersion">Version of the contract the body follows; see <see cref="MessageCodec.CurrentSchemaVersion"/>.</param>
/// <param name="Body">The command or event itself.</param>
public sealed record MessageEnvelope(
    string MessageId,
    string CorrelationId,
    string? CausationId,
    string SiteId,
    DateTimeOffset SentAt,
    int SchemaVersion,
    RelayMessage Body)
{
    /// <summary>The wire type name of <see cref="Body"/>.</summary>
    public string Type => MessageTypes.NameOf(Body);
}

/// <summary>Base of every body carried by a <see cref="MessageEnvelope"/>.</summary>
public abstract record RelayMessage;

/// <summary>A body sent by the cloud to a relay.</summary>
public abstract record RelayCommand : RelayMessage;

/// <summary>A body sent by a relay to the cloud.</summary>
public abstract record RelayEvent : RelayMessage;
