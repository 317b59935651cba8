using System.Security.Cryptography;
using System.Text;
using ServerlessImaging.Dicom;
using ServerlessImaging.Orchestration.Orchestrator;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Orchestration.Registrations;

namespace ServerlessImaging.Cloud.Api.Registrations;

/// <summary>
/// A registration's imaging manifest as DRIM-M exchanges it (IHE XDS-I.b): a Key Object Selection document titled
/// "Manifest" listing every instance of its available studies as the DICOM service holds them (QIDO-RS), with the
/// WADO-RS URL of each series, and the registration's patient (strong traits; the INS as Patient ID when known).
/// </summary>
/// <remarks>
/// Built on request: its UIDs derive from the registration (study, series) and from the set of instances (document), so
/// the same set gives the same document UID and a changed set (a deletion, a new study) a new one.
/// </remarks>
public static class RegistrationManifest
{
    /// <summary>The manifest of <paramref name="state"/>'s available studies, or null when none is available.</summary>
    public static async Task<DicomDataset?> BuildAsync(RegistrationState state, IDicomInventory inventory, Uri dicomWebBaseUrl, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(inventory);
        if (state.Plan is not { } plan)
        {
            return null;
        }

        var references = new List<KeyObjectReference>();
        foreach (var study in state.Selected.Where(s => s.Status == StudyStatus.Available).OrderBy(s => s.StudyInstanceUid, StringComparer.Ordinal))
        {
            var stored = await inventory.StoredInstancesOfStudyAsync(study.StudyInstanceUid, cancellationToken);
            references.AddRange(stored.OrderBy(i => i.SeriesInstanceUid, StringComparer.Ordinal).ThenBy(i => i.SopInstanceUid, StringComparer.Ordinal)
                .Select(i => new KeyObjectReference(i.StudyInstanceUid, i.SeriesInstanceUid, i.SopClassUid, i.SopInstanceUid)));
        }

        if (references.Count == 0)
        {
            return null;
        }

        var registrationId = state.RegistrationId;
        var selection = new KeyObjectSelection(
            KeyObjectSelectionDocument.ManifestTitle,
            PatientModule(plan.Registration.Patient),
            UidOf("study", registrationId),
            UidOf("series", registrationId),
            UidOf("document", registrationId + "\u001f" + string.Join('\u001f', references.Select(r => r.SopInstanceUid))),
            now,
            references)
        {
            RetrieveBaseUrl = dicomWebBaseUrl,
            Description = "RCP " + plan.MeetingTitle,
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
