using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>Patient/study fields of generated test instances; every run uses fresh UIDs and ids.</summary>
public sealed record TestPatient(string FamilyName, string GivenName, string PatientId, string CharacterSet = "ISO_IR 192");

/// <summary>Generates small CT instances with the shared <see cref="SyntheticInstance"/> builder (no corpus UIDs reused,
/// so runs never collide in a PACS).</summary>
public static class TestInstances
{
    public const string CtImageStorage = SyntheticInstance.CtImageStorage;

    public static async Task<string> WriteAsync(string directory, TestPatient patient, string studyUid, string seriesUid,
        DateOnly studyDate, string modality = "CT", int size = 16, string? studyDescription = null)
    {
        ArgumentNullException.ThrowIfNull(patient);
        Directory.CreateDirectory(directory);
        var instance = new SyntheticInstance
        {
            StudyInstanceUid = studyUid,
            SeriesInstanceUid = seriesUid,
            SpecificCharacterSet = patient.CharacterSet,
            Modality = modality,
            PatientName = DicomPersonName.FromComponents(patient.FamilyName, patient.GivenName).ToString(),
            PatientId = patient.PatientId,
            PatientBirthDate = new DateOnly(1961, 4, 2),
            PatientSex = "F",
            StudyDate = studyDate,
            StudyTime = new TimeOnly(10, 30),
            AccessionNumber = "",
            StudyDescription = studyDescription ?? "Scanner thorax",
            StudyId = "1",
            SeriesNumber = 1,
            InstanceNumber = 1,
            Rows = size,
            Columns = size,
        };
        var pixels = new byte[instance.PixelDataLength];
        Random.Shared.NextBytes(pixels);
        var path = Path.Combine(directory, instance.SopInstanceUid + ".dcm");
        await instance.WriteAsync(path, pixels);
        return path;
    }
}
