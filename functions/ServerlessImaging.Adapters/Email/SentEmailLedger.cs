using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Azure.Cosmos;

namespace ServerlessImaging.Adapters.Email;

/// <summary>Where a message stands in the ledger.</summary>
public enum SentEmailState
{
    /// <summary>Never attempted.</summary>
    Unknown,

    /// <summary>Claimed: a sender started handing it to the relay and did not confirm (it may have crashed after the relay accepted it).</summary>
    Sending,

    /// <summary>The relay accepted it.</summary>
    Sent,
}

/// <summary>A message's ledger entry: its state and when it was claimed or confirmed (null when unknown).</summary>
public sealed record SentEmailEntry(SentEmailState State, DateTimeOffset? At);

/// <summary>Remembers which Message-Ids were handed to the SMTP relay, so a retry does not send twice.</summary>
public interface ISentEmailLedger
{
    /// <summary>Claims <paramref name="messageId"/>: true when this caller may send it; false when it was claimed or sent before.</summary>
    Task<bool> TryClaimAsync(string messageId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Marks the message sent.</summary>
    Task MarkSentAsync(string messageId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Gives a claim back: the relay certainly did not accept the message, so a later attempt may send it.</summary>
    Task ReleaseAsync(string messageId, CancellationToken cancellationToken);

    /// <summary>The entry of a message.</summary>
    Task<SentEmailEntry> GetAsync(string messageId, CancellationToken cancellationToken);
}

/// <summary>
/// The ledger in the Cosmos DB container <c>idempotency</c> (partition key <c>/id</c>): the claim is a create,
/// so two concurrent senders cannot both win it.
/// </summary>
public sealed class CosmosSentEmailLedger(Container container) : ISentEmailLedger
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <inheritdoc />
    public async Task<bool> TryClaimAsync(string messageId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var id = DocumentId(messageId);
        using var body = Serialize(id, SentEmailState.Sending, at);
        using var response = await container.CreateItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }

        EnsureSuccess(response, "claiming an e-mail");
        return true;
    }

    /// <inheritdoc />
    public async Task MarkSentAsync(string messageId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var id = DocumentId(messageId);
        using var body = Serialize(id, SentEmailState.Sent, at);
        using var response = await container.UpsertItemStreamAsync(body, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, "recording a sent e-mail");
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(string messageId, CancellationToken cancellationToken)
    {
        var id = DocumentId(messageId);
        using var response = await container.DeleteItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            EnsureSuccess(response, "releasing an e-mail claim");
        }
    }

    /// <inheritdoc />
    public async Task<SentEmailEntry> GetAsync(string messageId, CancellationToken cancellationToken)
    {
        var id = DocumentId(messageId);
        using var response = await container.ReadItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return new SentEmailEntry(SentEmailState.Unknown, null);
        }

        EnsureSuccess(response, "reading the e-mail ledger");
        using var document = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
        var root = document.RootElement;
        var state = Enum.TryParse<SentEmailState>(root.GetProperty("state").GetString(), out var parsed) ? parsed : SentEmailState.Unknown;
        return new SentEmailEntry(state, root.TryGetProperty("at", out var at) && at.TryGetDateTimeOffset(out var when) ? when : null);
    }

    private static string DocumentId(string messageId) =>
        "email-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageId)).AsSpan(0, 16));

    private static MemoryStream Serialize(string id, SentEmailState state, DateTimeOffset at) =>
        new(JsonSerializer.SerializeToUtf8Bytes(new { id, kind = "email", state = state.ToString(), at }, Json));

    private static void EnsureSuccess(ResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new CosmosException($"{what} failed ({(int)response.StatusCode}).", response.StatusCode, 0, response.Headers.ActivityId, response.Headers.RequestCharge);
        }
    }
}
