using System.Security.Cryptography;
using System.Text.Json;
using ServerlessImaging.Contracts.Messages;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// A list of staged instances (a retrieval's manifest, or a batch staged during it) kept as a blob of the app's own
/// (<c>IStagedInstanceListStore</c>), named here. Events, state and activity inputs carry this reference, never the
/// list: a 1,000-instance manifest is several hundred KB of JSON, which would otherwise sit in the orchestration's history and
/// in every activity input, and in the app's memory in proportion to the study.
/// </summary>
/// <param name="BlobName"><c>&lt;registration&gt;/&lt;study&gt;/&lt;sha256&gt;.json</c>: the same list always has the same name, so writing it again is harmless.</param>
/// <param name="Sha256">SHA-256 of the blob's bytes (lower-case hex): what the reader checks before trusting the list.</param>
/// <param name="Count">How many instances it lists.</param>
/// <param name="TotalBytes">The sum of their sizes.</param>
public sealed record StagedInstanceListReference(string BlobName, string Sha256, int Count, long TotalBytes);

/// <summary>The blob form of a <see cref="StagedInstanceListReference"/>'s list: its bytes, name and checks. Pure.</summary>
public static class StagedInstanceList
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>The list's blob: its reference and its bytes (JSON).</summary>
    public static (StagedInstanceListReference Reference, byte[] Content) Describe(string registrationId, string studyInstanceUid, IReadOnlyList<StagedInstance> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var content = JsonSerializer.SerializeToUtf8Bytes(instances, Options);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        var reference = new StagedInstanceListReference($"{Prefix(registrationId, studyInstanceUid)}{sha256}.json", sha256, instances.Count, instances.Sum(i => i.SizeBytes));
        return (reference, content);
    }

    /// <summary>Where a registration's lists are (every study's).</summary>
    public static string Prefix(string registrationId) => registrationId + "/";

    /// <summary>Where one study's lists are.</summary>
    public static string Prefix(string registrationId, string studyInstanceUid) => $"{registrationId}/{studyInstanceUid}/";

    /// <summary>
    /// The list in <paramref name="content"/>, once its SHA-256 and count are those of <paramref name="reference"/>;
    /// throws <see cref="StagedInstanceListMismatchException"/> otherwise (a blob changed or damaged since it was named).
    /// </summary>
    public static IReadOnlyList<StagedInstance> Read(StagedInstanceListReference reference, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(content)), reference.Sha256, StringComparison.Ordinal))
        {
            throw new StagedInstanceListMismatchException("The instance list's SHA-256 is not the one its reference names.");
        }

        var instances = JsonSerializer.Deserialize<List<StagedInstance>>(content, Options)
            ?? throw new StagedInstanceListMismatchException("The instance list is empty JSON.");
        return instances.Count == reference.Count
            ? instances
            : throw new StagedInstanceListMismatchException($"The instance list has {instances.Count} entries, its reference {reference.Count}.");
    }
}

/// <summary>A list's bytes are not the ones its reference names.</summary>
public sealed class StagedInstanceListMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StagedInstanceListMismatchException()
        : base("An instance list is not the one its reference names.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StagedInstanceListMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public StagedInstanceListMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
