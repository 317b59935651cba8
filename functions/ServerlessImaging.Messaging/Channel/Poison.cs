using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ServerlessImaging.Messaging.Channel;

/// <summary>Why a message was quarantined instead of handled.</summary>
public enum PoisonReason
{
    /// <summary>Not a readable envelope (not JSON, missing fields, unknown type, unsupported version, body off contract).</summary>
    Malformed,

    /// <summary>Handed out more than <see cref="MessageChannelOptions.MaxDeliveries"/> times without being completed.</summary>
    TooManyDeliveries,

    /// <summary>A pointer to an offloaded body whose blob no longer exists.</summary>
    BodyMissing,

    /// <summary>The consumer decided the message can never be handled (<see cref="MessageChannel.QuarantineAsync"/>).</summary>
    RejectedByConsumer,
}

/// <summary>
/// What the channel reports when it quarantines a message: safe to log (ids, type and a reason text
/// that names fields, never values; the raw body is only in the poison queue). <see cref="MessageId"/>,
/// <see cref="Type"/> and <see cref="CorrelationId"/> are read best-effort from the raw message: null when unreadable.
/// </summary>
public sealed record PoisonReport(
    string Queue,
    string PoisonQueue,
    string TransportMessageId,
    string? MessageId,
    string? Type,
    PoisonReason Reason,
    int DeliveryCount,
    string Detail,
    string? CorrelationId = null);

/// <summary>
/// A poison-queue message: the report plus the original raw body (UTF-8 text as it was on the queue,
/// so an operator can inspect it and re-send it unchanged after a fix).
/// </summary>
public sealed record PoisonRecord(PoisonReport Report, DateTimeOffset QuarantinedAt, string Raw)
{
    internal byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>(Raw.Length + 512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("queue", Report.Queue);
            writer.WriteString("poisonQueue", Report.PoisonQueue);
            writer.WriteString("transportMessageId", Report.TransportMessageId);
            writer.WriteString("messageId", Report.MessageId);
            writer.WriteString("type", Report.Type);
            writer.WriteString("reason", Report.Reason.ToString());
            writer.WriteNumber("deliveryCount", Report.DeliveryCount);
            writer.WriteString("detail", Report.Detail);
            writer.WriteString("correlationId", Report.CorrelationId);
            writer.WriteString("quarantinedAt", QuarantinedAt);
            writer.WriteString("raw", Raw);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a poison record (operators' tools, tests).</summary>
    public static PoisonRecord Parse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        using var document = JsonDocument.ParseValue(ref reader);
        var r = document.RootElement;
        string? S(string n) => r.TryGetProperty(n, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        var report = new PoisonReport(
            S("queue") ?? string.Empty,
            S("poisonQueue") ?? string.Empty,
            S("transportMessageId") ?? string.Empty,
            S("messageId"),
            S("type"),
            Enum.Parse<PoisonReason>(S("reason") ?? nameof(PoisonReason.Malformed)),
            r.GetProperty("deliveryCount").GetInt32(),
            S("detail") ?? string.Empty,
            S("correlationId"));
        return new PoisonRecord(report, r.GetProperty("quarantinedAt").GetDateTimeOffset(), S("raw") ?? string.Empty);
    }

    internal static string RawText(ReadOnlyMemory<byte> body)
    {
        // Queue bodies are UTF-8 JSON in practice; anything else is kept losslessly as Base64 with a marker.
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body.Span);
        }
        catch (DecoderFallbackException)
        {
            return "base64:" + Convert.ToBase64String(body.Span);
        }
    }
}
