using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Identity;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>A staged instance may not be stored: not DICOM, not the selected study or manifest entry, or another patient's.</summary>
public sealed class StagedInstanceRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StagedInstanceRefusedException() : this(StoreFailureCodes.UnexpectedInstance, "A staged instance may not be stored.") { }

    /// <summary>Creates the exception with a message.</summary>
    public StagedInstanceRefusedException(string message) : this(StoreFailureCodes.UnexpectedInstance, message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public StagedInstanceRefusedException(string message, Exception innerException) : base(message, innerException) => FailureCode = StoreFailureCodes.UnexpectedInstance;

    /// <summary>Creates the exception with its <see cref="StoreFailureCodes"/> code and a message without patient data.</summary>
    public StagedInstanceRefusedException(string failureCode, string safeMessage) : base(safeMessage) => FailureCode = failureCode;

    /// <summary>The <see cref="StoreFailureCodes"/> code.</summary>
    public string FailureCode { get; }
}

/// <summary>
/// Checks what a staged instance is, from its header, before any of its bytes are stored: nothing a relay sends is trusted
/// as to what it is. The instance must be DICOM, of the selected study (Study Instance UID), the one its manifest entry
/// names (SOP Instance UID), and of the registration's patient: the strong traits and INS compared as candidates are
/// (<see cref="IdentityMatcher"/>, a near-miss is a mismatch). This also catches a PACS's own mix-ups.
/// </summary>
/// <remarks>
/// One read per instance: the header is parsed from the download the store then sends (the bytes the parser consumed
/// are kept and replayed first), so what was checked is what is sent, and size and SHA-256 are verified over the whole
/// of it on the way (<see cref="VerifyingStream"/>).
/// </remarks>
public sealed class StagedInstanceInspector(IStagingStore staging)
{
    /// <summary>Largest header read: a header beyond this is not what a PACS sends for a study.</summary>
    private const int LargestHeader = 16 * 1024 * 1024;

    private static readonly DicomReadOptions HeaderOnly = new() { StopBeforeTag = new DicomTag(0x7FE0, 0x0000) };

    /// <summary>
    /// Opens the blob of <paramref name="entry"/> in <paramref name="siteId"/>'s staging for the store, checked against the
    /// selected study and the registration's patient; throws <see cref="StagedInstanceRefusedException"/> when it may not
    /// be stored (none of its bytes then go anywhere). The stream returned checks size and SHA-256 against the entry as it
    /// is read, and throws <see cref="StagedInstanceMismatchException"/> at the end when they differ.
    /// </summary>
    public async Task<Stream> OpenCheckedAsync(string siteId, string blobName, StagedInstance entry, string studyInstanceUid, PatientIdentity patient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(patient);
        var blob = new HeaderRecordingStream(await staging.OpenReadAsync(siteId, blobName, cancellationToken), LargestHeader);
        try
        {
            DicomDataset? header;
            try
            {
                header = (await DicomFile.OpenAsync(blob, HeaderOnly, cancellationToken)).Dataset;
            }
            catch (Exception ex) when (ex is DicomException or HeaderRecordingStream.HeaderTooLargeException)
            {
                header = null; // not DICOM, cut short, or a header no PACS sends: refused below
            }

            if (Judge(header, entry, studyInstanceUid, patient) is var (code, message))
            {
                throw new StagedInstanceRefusedException(code, message);
            }

            blob.Replay();
            return new VerifyingStream(blob, entry.SizeBytes, entry.Sha256);
        }
        catch
        {
            await blob.DisposeAsync();
            throw;
        }
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
}
