namespace ServerlessImaging.Contracts;

/// <summary>
/// Names of the queues, blob containers and Cosmos DB containers where the cloud app and the
/// relays meet. Bicep (infra/) creates exactly these; a contract test keeps both in step.
/// </summary>
public static class ResourceNames
{
    /// <summary>
    /// Prefix of each site's own events queue (results, progress, heartbeats); the full name is <see cref="EventsQueueFor"/>.
    /// The cloud takes the site of an event from the queue it read, never from the message.
    /// </summary>
    public const string EventsQueuePrefix = "relay-events-";

    /// <summary>Prefix of each site's own command queue; the full name is <see cref="CommandQueueFor"/>.</summary>
    public const string CommandQueuePrefix = "relay-commands-";

    /// <summary>Prefix of each site's poison queue, where its relay quarantines unreadable commands; see <see cref="PoisonQueueFor"/>.</summary>
    public const string PoisonQueuePrefix = "relay-poison-";

    /// <summary>Suffix of the poison queue of any queue other than a command queue (<see cref="PoisonQueueOf"/>).</summary>
    public const string PoisonQueueSuffix = "-poison";

    /// <summary>
    /// Prefix of each site's staging container, receiving the instances its relay retrieved before they are stored in
    /// the DICOM service; the full name is <see cref="StagingContainerFor"/>.
    /// </summary>
    public const string StagingContainerPrefix = "staging-";

    /// <summary>Blob container holding message bodies too large for a queue message.</summary>
    public const string MessageBodiesContainer = "message-bodies";

    /// <summary>
    /// Blob container of the app's own lists of staged instances (retrieval manifests and batches, named by SHA-256),
    /// which the orchestration carries by reference; no relay has any access to it.
    /// </summary>
    public const string InstanceListsContainer = "instance-lists";

    /// <summary>Cosmos DB database holding every container below.</summary>
    public const string CosmosDatabase = "serverless-imaging";

    /// <summary>Cosmos DB containers and their partition key paths.</summary>
    public static readonly IReadOnlyList<(string Name, string PartitionKeyPath)> CosmosContainers =
    [
        ("meetings", "/id"),
        ("registrations", "/id"),
        ("sites", "/id"),
        ("idempotency", "/id"),
        ("audit", "/partitionKey"),
    ];

    /// <summary>
    /// Command queue of one site. Site ids are lower-case letters, digits and single hyphens
    /// (the queue-name rules of Azure Storage), at most <see cref="MaxSiteIdLength"/> characters.
    /// </summary>
    public static string CommandQueueFor(string siteId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(siteId);
        if (!IsValidSiteId(siteId))
        {
            throw new ArgumentException($"A site id is 2-{MaxSiteIdLength} lower-case letters, digits or single inner hyphens.", nameof(siteId));
        }

        return CommandQueuePrefix + siteId;
    }

    /// <summary>
    /// Longest site id: its events queue's poison queue (<c>relay-events-&lt;site&gt;-poison</c>, the Functions host's own
    /// naming) must fit the 63-character queue-name limit.
    /// </summary>
    public const int MaxSiteIdLength = 63 - 13 - 7;

    /// <summary>Events queue of one site: only that site's relay sends to it; same site-id rules as <see cref="CommandQueueFor"/>.</summary>
    public static string EventsQueueFor(string siteId) => EventsQueuePrefix + CommandQueueFor(siteId)[CommandQueuePrefix.Length..];

    /// <summary>Poison queue of one site's events queue (<c>relay-events-&lt;site&gt;-poison</c>): the app and the Functions host quarantine that site's bad events here.</summary>
    public static string EventsPoisonQueueFor(string siteId) => EventsQueueFor(siteId) + PoisonQueueSuffix;

    /// <summary>
    /// Staging container of one site: its relay may only create and write blobs there, with a credential minted per
    /// command; same site-id rules as <see cref="CommandQueueFor"/> (a valid site id makes a valid container name).
    /// </summary>
    public static string StagingContainerFor(string siteId) => StagingContainerPrefix + CommandQueueFor(siteId)[CommandQueuePrefix.Length..];

    /// <summary>Poison queue of one site's command queue (<c>relay-poison-&lt;site&gt;</c>); same site-id rules as <see cref="CommandQueueFor"/>.</summary>
    public static string PoisonQueueFor(string siteId) => PoisonQueuePrefix + CommandQueueFor(siteId)[CommandQueuePrefix.Length..];

    /// <summary>
    /// Poison queue of any queue: a command queue maps to <see cref="PoisonQueueFor"/>, any other queue to
    /// <c>&lt;queue&gt;-poison</c>, cut so the result stays within the 63-character queue-name limit.
    /// </summary>
    public static string PoisonQueueOf(string queue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        if (queue.StartsWith(CommandQueuePrefix, StringComparison.Ordinal))
        {
            return PoisonQueuePrefix + queue[CommandQueuePrefix.Length..];
        }

        const int maxQueueName = 63;
        var keep = Math.Min(queue.Length, maxQueueName - PoisonQueueSuffix.Length);
        return queue[..keep] + PoisonQueueSuffix;
    }

    /// <summary>True when <paramref name="siteId"/> can name a queue once prefixed.</summary>
    public static bool IsValidSiteId(string siteId)
    {
        if (siteId.Length is < 2 or > MaxSiteIdLength || siteId[0] == '-' || siteId[^1] == '-' || siteId.Contains("--", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in siteId)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
