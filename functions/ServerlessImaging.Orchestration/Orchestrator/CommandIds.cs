using System.Globalization;

namespace ServerlessImaging.Orchestration.Orchestrator;

/// <summary>
/// Deterministic ids of everything the orchestrator emits: registration id + step. Replaying the same
/// history gives the same ids, which is what lets the relays and the activities deduplicate.
/// </summary>
public static class CommandIds
{
    /// <summary>FindStudies attempt <paramref name="attempt"/> of round <paramref name="round"/> at a site.</summary>
    public static string Find(string registrationId, string siteId, int round, int attempt) => Invariant($"{registrationId}/find/{siteId}/r{round}/a{attempt}");

    /// <summary>Timeout timer of a FindStudies attempt.</summary>
    public static string FindTimeout(string registrationId, string siteId, int round, int attempt) => Invariant($"{registrationId}/timer/find-timeout/{siteId}/r{round}/a{attempt}");

    /// <summary>Retry timer of an unreachable site, set after attempt <paramref name="attempt"/>.</summary>
    public static string FindRetry(string registrationId, string siteId, int round, int attempt) => Invariant($"{registrationId}/timer/find-retry/{siteId}/r{round}/a{attempt}");

    /// <summary>Retrieval attempt of a study.</summary>
    public static string Retrieve(string registrationId, string studyInstanceUid, int attempt) => Invariant($"{registrationId}/retrieve/{studyInstanceUid}/a{attempt}");

    /// <summary>Timer that retries a study at every site holding it, set when retrieval attempt <paramref name="attempt"/> failed the round.</summary>
    public static string RetrieveRetry(string registrationId, string studyInstanceUid, int attempt) => Invariant($"{registrationId}/timer/retrieve-retry/{studyInstanceUid}/a{attempt}");

    /// <summary>Store activity after retrieval attempt <paramref name="attempt"/>.</summary>
    public static string Store(string registrationId, string studyInstanceUid, int attempt) => Invariant($"{registrationId}/store/{studyInstanceUid}/a{attempt}");

    /// <summary>Store of staged instances while retrieval attempt <paramref name="attempt"/> runs, decided at state version <paramref name="version"/>.</summary>
    public static string StoreStaged(string registrationId, string studyInstanceUid, int attempt, long version) => Invariant($"{registrationId}/store/{studyInstanceUid}/a{attempt}/staged/v{version}");

    /// <summary>Delete activity of a study after retrieval attempt <paramref name="attempt"/>.</summary>
    public static string Delete(string registrationId, string studyInstanceUid, int attempt) => Invariant($"{registrationId}/delete/{studyInstanceUid}/a{attempt}");

    /// <summary>Second delete of a study whose store of attempt <paramref name="attempt"/> finished after its removal.</summary>
    public static string DeleteAfterLateStore(string registrationId, string studyInstanceUid, int attempt) => Delete(registrationId, studyInstanceUid, attempt) + "/after-late-store";

    /// <summary>Cancel of an in-flight relay command.</summary>
    public static string Cancel(string commandIdToCancel) => commandIdToCancel + "/cancel";

    /// <summary>The purge timer (one per registration).</summary>
    public static string PurgeTimer(string registrationId) => registrationId + "/timer/purge";

    /// <summary>The purge activity (one per registration).</summary>
    public static string Purge(string registrationId) => registrationId + "/purge";

    /// <summary>Delivery attempt of a study to the meeting's destination.</summary>
    public static string Deliver(string registrationId, string studyInstanceUid, int attempt) => Invariant($"{registrationId}/deliver/{studyInstanceUid}/a{attempt}");

    /// <summary>Timer that retries a delivery after attempt <paramref name="attempt"/> failed transiently.</summary>
    public static string DeliverRetry(string registrationId, string studyInstanceUid, int attempt) => Invariant($"{registrationId}/timer/deliver-retry/{studyInstanceUid}/a{attempt}");

    /// <summary>Publication of revision <paramref name="revision"/> of the registration's imaging manifest.</summary>
    public static string PublishManifest(string registrationId, int revision) => Invariant($"{registrationId}/manifest/r{revision}");

    /// <summary>The expertise e-mail (at most one per registration).</summary>
    public static string ExpertiseEmail(string registrationId) => registrationId + "/expertise-email";

    /// <summary>The <paramref name="index"/>-th audit record written by the event that produced state version <paramref name="version"/>.</summary>
    public static string Audit(string registrationId, long version, int index) => Invariant($"{registrationId}/audit/v{version}/{index}");

    /// <summary>Staging root of a registration (blob name prefix).</summary>
    public static string StagingRoot(string registrationId) => registrationId + "/";

    /// <summary>Staging prefix of a study; the same for every attempt so a retried retrieval resumes.</summary>
    public static string StagingPrefix(string registrationId, string studyInstanceUid) => $"{registrationId}/{studyInstanceUid}/";

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The Message-Id (without angle brackets) of the expertise e-mail sent for <paramref name="commandId"/>: derived, so a re-sent e-mail is recognised.</summary>
    public static string ExpertiseMessageId(string commandId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commandId);
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(commandId));
        return "expertise-" + Convert.ToHexStringLower(digest.AsSpan(0, 16)) + "@serverless-imaging";
    }
}
