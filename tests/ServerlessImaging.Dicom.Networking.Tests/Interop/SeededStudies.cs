using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Tests.Support;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

/// <summary>
/// Two studies stored once per run into every PACS with run-unique ids and accented names:
/// A (ISO_IR 192, 2024-03-01, CT+MR, 2 series) and B (ISO_IR 100, 2023-06-15, CT, 1 series).
/// </summary>
public sealed class SeededStudies : IAsyncLifetime
{
    public string Token { get; } = new(Enumerable.Range(0, 6).Select(_ => (char)('A' + Random.Shared.Next(26))).ToArray());
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("si-dimse-seed-").FullName;
    public TestPatient PatientA => new("LEFÈVRE" + Token, "Hélène", "SIA" + Token, "ISO_IR 192");
    public TestPatient PatientB => new("MÜLLER" + Token, "Zoé", "SIB" + Token, "ISO_IR 100");
    public string StudyA { get; } = DicomUid.Generate();
    public string StudyASeriesCt { get; } = DicomUid.Generate();
    public string StudyASeriesMr { get; } = DicomUid.Generate();
    public string StudyB { get; } = DicomUid.Generate();
    public List<string> Files { get; } = [];

    public async Task InitializeAsync()
    {
        await Peers.EnsureStackAsync(); // collection fixtures start before class fixtures: bring the shared stack up here
        Files.Add(await TestInstances.WriteAsync(Directory, PatientA, StudyA, StudyASeriesCt, new DateOnly(2024, 3, 1), "CT"));
        Files.Add(await TestInstances.WriteAsync(Directory, PatientA, StudyA, StudyASeriesMr, new DateOnly(2024, 3, 1), "MR"));
        Files.Add(await TestInstances.WriteAsync(Directory, PatientB, StudyB, DicomUid.Generate(), new DateOnly(2023, 6, 15), "CT"));
        foreach (var peer in new[] { Peers.ChuNord, Peers.CliniqueSud, Peers.ChEst })
        {
            var results = await EchoAndStoreTests.ClientFor(peer).StoreAsync(Files);
            if (results.Any(r => !r.Succeeded))
                throw new InvalidOperationException($"Seeding {peer} failed: " + string.Join("; ", results.Select(r => $"0x{r.Status:X4} {r.Error}")));
        }
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}
