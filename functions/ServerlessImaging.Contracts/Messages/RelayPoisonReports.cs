namespace ServerlessImaging.Contracts.Messages;

/// <summary>
/// How a relay reports a command it quarantined (moved to <c>relay-poison-&lt;site&gt;</c> instead of handling it).
/// When the quarantined message still names its command (message id, correlation id, a command type), the relay
/// answers it like any failed command: a <see cref="CommandFailed"/> with the real correlation and causation ids, so
/// the registration moves on. Only when nothing of it can be read does the relay send an <em>unsolicited</em>
/// report: a <see cref="CommandFailed"/> whose correlation id is <see cref="UnsolicitedCorrelationId"/> (relays
/// have always sent that value, so old and new apps read both shapes). Registration ids never take this value.
/// </summary>
public static class RelayPoisonReports
{
    /// <summary>Correlation id of a poison report that answers no readable command.</summary>
    public const string UnsolicitedCorrelationId = "poison";

    /// <summary>
    /// Event id suffix of the report of a readable quarantined command (<c>&lt;command id&gt;/quarantined</c>): fixed,
    /// so a report sent twice (a crash between quarantine and report) is recognised as one by the app.
    /// </summary>
    public const string ReportIdSuffix = "quarantined";

    /// <summary>True for a relay's report of a quarantined message that answers no readable command.</summary>
    public static bool IsUnsolicited(MessageEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return envelope.Body is CommandFailed && string.Equals(envelope.CorrelationId, UnsolicitedCorrelationId, StringComparison.Ordinal);
    }
}
