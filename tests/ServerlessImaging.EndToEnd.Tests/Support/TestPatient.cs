using System.Globalization;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.RegionGenerator.Writing;
using ServerlessImaging.Testing.Isolation;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>A DICOM listener the test talks to: a site PACS of the stack, a private one, or a forwarder in front of one.</summary>
internal sealed record PacsAddress(string AeTitle, string Host, int Port);

/// <summary>One study a test put into a site PACS: the ground truth the DICOM service must end up holding.</summary>
internal sealed record TestStudy(string StudyInstanceUid, IReadOnlyList<string> SopInstanceUids, string PacsAeTitle);

/// <summary>
/// A synthetic patient unique to one test (random family name and birth date, so no other test's query ever matches
/// them), with the studies the test stores for them with C-STORE (<see cref="SyntheticInstance"/>).
/// </summary>
internal sealed class TestPatient
{
    private readonly List<TestStudy> studies = [];

    private TestPatient(string familyName, DateOnly birthDate)
    {
        FamilyName = familyName;
        BirthDate = birthDate;
    }

    public string FamilyName { get; }

    /// <summary>The same first name for every test patient: the unique family name and birth date already set them apart.</summary>
    public const string FirstName = "Camille";

    public DateOnly BirthDate { get; }

    public IReadOnlyList<TestStudy> Studies => studies;

    public static TestPatient New() =>
        new("FAULT" + UniqueNames.PatientSuffix(), new DateOnly(1930, 1, 1).AddDays(Random.Shared.Next(0, 365 * 60)));

    /// <summary>
    /// Writes a study of <paramref name="instances"/> instances (<paramref name="size"/>² 16-bit pixels, so tests can make a
    /// transfer last) and C-STOREs it into <paramref name="pacs"/> as SI_TEST.
    /// </summary>
    public async Task<TestStudy> AddStudyAsync(PacsAddress pacs, int instances, int size = 32, CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("si-fault-");
        try
        {
            var studyUid = UniqueNames.DicomUid();
            var seriesUid = UniqueNames.DicomUid();
            var pixels = new byte[size * size * 2];
            Random.Shared.NextBytes(pixels);
            var files = new List<string>();
            var sops = new List<string>();
            for (var i = 0; i < instances; i++)
            {
                var instance = new SyntheticInstance
                {
                    StudyInstanceUid = studyUid,
                    SeriesInstanceUid = seriesUid,
                    SopInstanceUid = UniqueNames.DicomUid(),
                    PatientName = FamilyName + "^" + FirstName.ToUpperInvariant(),
                    PatientId = "FLT-" + FamilyName,
                    PatientBirthDate = BirthDate,
                    PatientSex = "F",
                    StudyDate = new DateOnly(2024, 3, 1).AddDays(studies.Count),
                    StudyDescription = "Fault study " + (studies.Count + 1).ToString(CultureInfo.InvariantCulture),
                    Modality = "CT",
                    SeriesNumber = 1,
                    InstanceNumber = i + 1,
                    Rows = size,
                    Columns = size,
                };
                var path = Path.Combine(directory.FullName, instance.SopInstanceUid + ".dcm");
                await instance.WriteAsync(path, pixels, cancellationToken);
                files.Add(path);
                sops.Add(instance.SopInstanceUid);
            }

            var client = new DicomClient(new DicomClientOptions { Host = pacs.Host, Port = pacs.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = pacs.AeTitle });
            var stored = await client.StoreAsync(files, ct: cancellationToken);
            var refused = stored.Where(r => !r.Succeeded).ToList();
            if (refused.Count > 0 || stored.Count != files.Count)
            {
                throw new InvalidOperationException($"C-STORE into {pacs.AeTitle} stored {stored.Count(r => r.Succeeded)} of {files.Count} instances: {refused.FirstOrDefault()?.Error}");
            }

            var study = new TestStudy(studyUid, sops, pacs.AeTitle);
            studies.Add(study);
            return study;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The POST /meetings/{id}/registrations body: strong traits, the four consent items, no INS.</summary>
    public object RegistrationBody() => new
    {
        patient = new
        {
            birthName = FamilyName,
            usageName = (string?)null,
            firstName = FirstName,
            birthDate = BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            sex = "Female",
            ins = (object?)null,
        },
        consent = new { informedOfComputerisation = true, informedOfSharing = true, informedOfHdsHosting = true, noObjection = true },
        requester = new { id = "dr-fault", name = "Dr Demandeur", email = (string?)null },
        expertiseRequested = false,
    };
}
