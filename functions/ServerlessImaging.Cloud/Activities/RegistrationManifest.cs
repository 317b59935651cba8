using System.Security.Cryptography;
using System.Text;
using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Activities;

/// <summary>
/// A registration's imaging manifest as DRIM-M exchanges it (IHE XDS-I.b): a Key Object Selection document titled
/// "Manifest" listing every instance of its available studies as the DICOM service holds them (QIDO-RS), with the
/// WADO-RS URL of each series, and the registration's patient (strong traits; the INS as Patient ID when known).
/// </summary>
/// <remarks>
/// Its study and series UIDs derive from the registration, so every revision replaces the previous one in the same
/// series; the document UID derives from the set of instances, so the same set gives the same document.
/// </remarks>
public static class RegistrationManifest
{
    /// <summary>The manifest's own Study Instance UID (one per registration).</summary>
    public static string StudyUidOf(string registrationId) => UidOf("study", registrationId);

    /// <summary>The manifest's Series Instance UID (one per registration).</summary>
    public static string SeriesUidOf(string registrationId) => UidOf("series", registrationId);

    /// <summary>The manifest of <paramref name="studyInstanceUids"/> as the DICOM service holds them, or null when it holds none of their instances.</summary>
    public static async Task<DicomDataset?> BuildAsync(
        string registrationId, PatientIdentity patient, string meetingTitle, IReadOnlyList<string> studyInstanceUids, IDicomInventory inventory, Uri dicomWebBaseUrl, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationId);
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentNullException.ThrowIfNull(studyInstanceUids);
        ArgumentNullException.ThrowIfNull(inventory);

        var references = new List<KeyObjectReference>();
        foreach (var studyUid in studyInstanceUids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var stored = await inventory.StoredInstancesOfStudyAsync(studyUid, cancellationToken);
            references.AddRange(stored.OrderBy(i => i.SeriesInstanceUid, StringComparer.Ordinal).ThenBy(i => i.SopInstanceUid, StringComparer.Ordinal)
                .Select(i => new KeyObjectReference(i.StudyInstanceUid, i.SeriesInstanceUid, i.SopClassUid, i.SopInstanceUid)));
        }

        if (references.Count == 0)
        {
            return null;
        }

        var selection = new KeyObjectSelection(
            KeyObjectSelectionDocument.ManifestTitle,
            PatientModule(patient),
            StudyUidOf(registrationId),
            SeriesUidOf(registrationId),
            UidOf("document", registrationId + "\u001f" + string.Join('\u001f', references.Select(r => r.SopInstanceUid))),
            now,
            references)
        {
            RetrieveBaseUrl = dicomWebBaseUrl,
            Description = "RCP " + meetingTitle,
            Manufacturer = "ServerlessImaging",
        };
        return KeyObjectSelectionDocument.Build(selection);
    }

    private static DicomDataset PatientModule(PatientIdentity patient)
    {
        var module = new DicomDataset()
            .AddOrUpdate(DicomTag.SpecificCharacterSet, "ISO_IR 192")
            .AddOrUpdate(DicomTag.PatientName, DicomPersonName.FromComponents(patient.BirthName, patient.FirstName))
            .AddOrUpdate(DicomTag.PatientBirthDate, patient.BirthDate)
            .AddOrUpdate(DicomTag.PatientSex, patient.SexCode);
        if (patient.Ins is { } ins)
        {
            module.AddOrUpdate(DicomTag.PatientID, ins.Matricule).AddOrUpdate(DicomTag.IssuerOfPatientID, ins.Oid);
        }
        else
        {
            module.AddOrUpdate(DicomTag.PatientID, DicomVR.LO);
        }

        if (!string.IsNullOrWhiteSpace(patient.UsageName))
        {
            module.AddOrUpdate(DicomTag.PatientBirthName, DicomPersonName.FromComponents(patient.BirthName));
            module.AddOrUpdate(DicomTag.PatientName, DicomPersonName.FromComponents(patient.UsageName, patient.FirstName));
        }

        return module;
    }

    // 2.25 UIDs from a hash: stable for the same input, and no patient data in them.
    private static string UidOf(string what, string input) =>
        DicomUid.FromGuid(new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("serverless-imaging/manifest/" + what + "/" + input)).AsSpan(0, 16)));
}
