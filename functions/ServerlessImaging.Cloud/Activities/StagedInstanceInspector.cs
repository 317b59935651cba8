using System.Security.Cryptography;
using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>What a staged instance was found to be before it is stored.</summary>
/// <param name="FailureCode">Null when the instance may be stored; else a <see cref="StoreFailureCodes"/> code.</param>
/// <param name="SafeMessage">Why it may not be stored, without patient data.</param>
/// <param name="CheckedBytes">The first bytes of the blob the check read (the header lies within them).</param>
/// <param name="CheckedSha256">SHA-256 of those bytes: the store sends only content whose first bytes hash the same.</param>
public sealed record StagedInstanceVerdict(string? FailureCode, string SafeMessage, long CheckedBytes, byte[] CheckedSha256)
{
    /// <summary>True when the instance may be stored.</summary>
    public bool Passed => FailureCode is null;
}

/// <summary>
/// Checks what a staged instance is, from its header, before anything of it is stored: nothing a relay sends is trusted
/// as to what it is. The instance must be DICOM, of the selected study (Study Instance UID), the one its manifest entry
/// names (SOP Instance UID), and of the registration's patient: the strong traits and INS compared as candidates are
/// (<see cref="IdentityMatcher"/>, a near-miss is a mismatch). This also catches a PACS's own mix-ups.
/// </summary>
/// <remarks>
/// Only the header is read (a ranged read stopping before the pixel data). The bytes checked are bound to the bytes
/// sent: the store's <see cref="VerifyingStream"/> hashes the same first bytes again while streaming and aborts the
/// request if they differ, so content swapped in staging between the check and the store is never stored.
/// </remarks>
public sealed class StagedInstanceInspector(IStagingStore staging)
{
    /// <summary>First read: headers are a few kilobytes; a read of this size holds them but the largest private blocks.</summary>
    private const int FirstRead = 64 * 1024;

    /// <summary>Largest header read: a header beyond this is not what a PACS sends for a study.</summary>
    private const int LargestRead = 16 * 1024 * 1024;

    private static readonly DicomReadOptions HeaderOnly = new() { StopBeforeTag = new DicomTag(0x7FE0, 0x0000) };

    /// <summary>Checks the blob of <paramref name="entry"/> in <paramref name="siteId"/>'s staging against the selected study and the registration's patient.</summary>
    public async Task<StagedInstanceVerdict> CheckAsync(string siteId, string blobName, StagedInstance entry, string studyInstanceUid, PatientIdentity patient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(patient);
        // The limits do not trust the manifest's size: what is checked is what the blob holds.
        var limit = FirstRead;
        while (true)
        {
            var (header, checkedBytes, sha) = await ReadHeaderAsync(siteId, blobName, limit, cancellationToken);
            var complete = header is not null && header.Contains(DicomTag.SOPInstanceUID) && header.Contains(DicomTag.StudyInstanceUID);
            if (!complete && checkedBytes >= limit && limit < LargestRead)
            {
                limit = LargestRead; // the header runs past the first read
                continue;
            }

            return Judge(header, entry, studyInstanceUid, patient) switch
            {
                null => new StagedInstanceVerdict(null, string.Empty, checkedBytes, sha),
                var (code, message) => new StagedInstanceVerdict(code, message, checkedBytes, sha),
            };
        }
    }

    private async Task<(DicomDataset? Header, long CheckedBytes, byte[] Sha256)> ReadHeaderAsync(string siteId, string blobName, int limit, CancellationToken cancellationToken)
    {
        await using var head = await staging.OpenHeadAsync(siteId, blobName, limit, cancellationToken);
        await using var hashing = new HashingReadStream(head);
        DicomDataset? header;
        try
        {
            header = (await DicomFile.OpenAsync(hashing, HeaderOnly, cancellationToken)).Dataset;
        }
        catch (DicomException)
        {
            header = null; // not DICOM, or cut by the read's limit: the caller reads more or refuses it
        }

        return (header, hashing.BytesRead, hashing.Sha256());
    }

    private static (string Code, string Message)? Judge(DicomDataset? header, StagedInstance entry, string studyInstanceUid, PatientIdentity patient)
    {
        if (header is null || !header.TryGetString(DicomTag.SOPInstanceUID, out var sop) || !header.TryGetString(DicomTag.StudyInstanceUID, out var study))
        {
            return (StoreFailureCodes.UnexpectedInstance, "A staged instance is not a readable DICOM instance.");
        }

        if (!string.Equals(study.Trim(), studyInstanceUid, StringComparison.Ordinal))
        {
            return (StoreFailureCodes.UnexpectedInstance, "A staged instance belongs to another study than the selected one.");
        }

        if (!string.Equals(sop.Trim(), entry.SopInstanceUid, StringComparison.Ordinal))
        {
            return (StoreFailureCodes.UnexpectedInstance, "A staged instance is not the one its manifest entry names.");
        }

        return IdentityMatcher.Compare(patient, PatientOf(header)).Verdict == IdentityVerdict.Match
            ? null
            : (StoreFailureCodes.IdentityMismatch, "A staged instance is of another patient than the registration's.");
    }

    /// <summary>The patient as the instance describes it, in the shape a PACS's C-FIND answer is compared in.</summary>
    private static PacsPatient PatientOf(DicomDataset header)
    {
        DateOnly? birthDate = null;
        if (header.TryGetString(DicomTag.PatientBirthDate, out var rawDate) && !string.IsNullOrWhiteSpace(rawDate))
        {
            try
            {
                birthDate = header.GetDate(DicomTag.PatientBirthDate);
            }
            catch (DicomException)
            {
                birthDate = null; // an unreadable date differs from ours
            }
        }

        var others = new List<OtherPatientId>();
        if (header.TryGetSequence(DicomTag.OtherPatientIDsSequence, out var sequence))
        {
            foreach (var item in sequence.Items)
            {
                if (item.TryGetString(DicomTag.PatientID, out var id))
                {
                    others.Add(new OtherPatientId(id, item.GetStringOrDefault(DicomTag.IssuerOfPatientID), item.GetStringOrDefault(DicomTag.TypeOfPatientID)));
                }
            }
        }

        return new PacsPatient(
            header.GetStringOrDefault(DicomTag.PatientName),
            header.GetStringOrDefault(DicomTag.PatientBirthName),
            header.GetStringOrDefault(DicomTag.PatientID),
            header.GetStringOrDefault(DicomTag.IssuerOfPatientID),
            birthDate,
            header.GetStringOrDefault(DicomTag.PatientSex),
            others);
    }

    /// <summary>Hashes what is read through it.</summary>
    private sealed class HashingReadStream(Stream inner) : ObservedReadStream(inner)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Sha256() => _hash.GetCurrentHash();

        protected override void Observe(ReadOnlySpan<byte> chunk) => _hash.AppendData(chunk);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
