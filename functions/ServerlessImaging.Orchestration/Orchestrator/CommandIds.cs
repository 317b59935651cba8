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

    /// <summary>True when <paramref name="commandId"/> is a FindStudies attempt of <paramref name="registrationId"/> (its answers go to the site's search).</summary>
    public static bool IsFind(string registrationId, string? commandId) =>
        commandId is not null && commandId.StartsWith(registrationId + "/find/", StringComparison.Ordinal);

    /// <summary>The event id of a site search giving up after the FindStudies attempt <paramref name="findCommandId"/>.</summary>
    public static string FindGaveUp(string findCommandId) => findCommandId + "/gave-up";

    /// <summary>
    /// The <paramref name="transfer"/>-th transfer of a study (its sub-orchestration's instance id): no '/', which the
    /// task hub's storage keys refuse; the command ids of the transfer start with it.
    /// </summary>
    public static string StudyTransfer(string registrationId, string studyInstanceUid, int transfer) => Invariant($"{registrationId}:transfer:{studyInstanceUid}:t{transfer}");

    /// <summary>n when <paramref name="transferId"/> is the n-th transfer of that study of that registration, else null.</summary>
    public static int? TransferNumber(string registrationId, string studyInstanceUid, string? transferId)
    {
        var prefix = StudyTransfer(registrationId, studyInstanceUid, 0)[..^1];
        return transferId is not null && transferId.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(transferId.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : null;
    }

    /// <summary>Retrieval attempt <paramref name="attempt"/> of a transfer (the relay command's message id).</summary>
    public static string Retrieve(string transferId, int attempt) => Invariant($"{transferId}/retrieve/a{attempt}");

    /// <summary>Store activity after retrieval attempt <paramref name="attempt"/> of a transfer.</summary>
    public static string Store(string transferId, int attempt) => Invariant($"{transferId}/store/a{attempt}");

    /// <summary>The <paramref name="batch"/>-th store of staged instances while retrieval attempt <paramref name="attempt"/> of a transfer runs.</summary>
    public static string StoreStaged(string transferId, int attempt, int batch) => Invariant($"{transferId}/store/a{attempt}/staged/{batch}");

    /// <summary>The request, decided at state version <paramref name="version"/>, that a transfer waiting for its next round start it now.</summary>
    public static string RetryNow(string transferId, long version) => Invariant($"{transferId}/retry-now/v{version}");

    /// <summary>The <paramref name="sequence"/>-th audit record of a transfer (numbered in the transfer's own trail).</summary>
    public static string TransferAudit(string transferId, long sequence) => Invariant($"{transferId}/audit/{sequence}");

    /// <summary>
    /// The transfer a relay's answer belongs to: the transfer id its command id starts with (a retrieval, or the cancel
    /// of one), or null for commands of the registration itself (find, deliver).
    /// </summary>
    public static string? TransferOf(string? commandId)
    {
        if (string.IsNullOrEmpty(commandId))
        {
            return null;
        }

        var retrieve = commandId.IndexOf("/retrieve/a", StringComparison.Ordinal);
        return retrieve > 0 && commandId.AsSpan(0, retrieve).Contains(":transfer:", StringComparison.Ordinal) ? commandId[..retrieve] : null;
    }

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
