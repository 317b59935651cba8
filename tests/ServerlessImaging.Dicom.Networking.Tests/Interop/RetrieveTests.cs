using System.Globalization;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

/// <summary>Every test here binds the SI_TEST move-destination port 11130, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MoveDestinationPort : ICollectionFixture<SeededStudies>
{
    public const string Name = "SI_TEST SCP port 11130";
}

[Collection(MoveDestinationPort.Name)]
public sealed class RetrieveTests : IDisposable, IClassFixture<LocalStackFixture>
{
    private readonly SeededStudies seed;

    public RetrieveTests(SeededStudies seed, LocalStackFixture stack)
    {
        this.seed = seed;
        Peers.Bind(stack);
    }

    private readonly string _work = Directory.CreateTempSubdirectory("si-dimse-rt-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    public static TheoryData<string> PacsNames => ["CHUNORD", "CLINSUD", "CHEST"];

    private static DicomServer StartTestScp(string dir) =>
        DicomServer.Start(new DicomServerOptions { AeTitle = Peers.CallingAe, Port = Peers.TestScpPort }, new DirectoryInstanceSink(dir));

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Our_move_scu_moves_a_study_into_our_scp_with_progress(string pacs)
    {
        var received = Path.Combine(_work, "moved");
        await using var scp = StartTestScp(received);
        var updates = new List<SubOperationProgress>();
        var (level, keys) = DicomClient.RetrieveKeys(seed.StudyA);

        var result = await EchoAndStoreTests.ClientFor(EchoAndStoreTests.Peer(pacs))
            .MoveAsync(QueryModel.StudyRoot, level, keys, Peers.CallingAe, new SynchronousProgress<SubOperationProgress>(updates.Add));

        Assert.True(result.Succeeded, $"status 0x{result.Status:X4}");
        Assert.Equal(2, result.Progress.Completed);
        Assert.Equal(0, result.Progress.Failed);
        Assert.NotEmpty(updates);
        Assert.Equal(2, Directory.GetFiles(received, "*.dcm").Length);
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Our_get_scu_receives_a_study_and_a_series_on_the_same_association(string pacs)
    {
        var client = EchoAndStoreTests.ClientFor(EchoAndStoreTests.Peer(pacs));
        var studyDir = Path.Combine(_work, "study");
        var (level, keys) = DicomClient.RetrieveKeys(seed.StudyA);
        var study = await client.GetAsync(QueryModel.StudyRoot, level, keys, new DirectoryInstanceSink(studyDir));
        Assert.True(study.Succeeded, $"status 0x{study.Status:X4}");
        Assert.Equal(2, study.Received.Count);
        Assert.Equal(2, Directory.GetFiles(studyDir, "*.dcm").Length);

        var seriesDir = Path.Combine(_work, "series");
        var (seriesLevel, seriesKeys) = DicomClient.RetrieveKeys(seed.StudyA, seed.StudyASeriesMr);
        var series = await client.GetAsync(QueryModel.StudyRoot, seriesLevel, seriesKeys, new DirectoryInstanceSink(seriesDir));
        Assert.Single(series.Received);
        var dump = await Dcmtk.RunAsync("dcmdump", ["-q", Directory.GetFiles(seriesDir, "*.dcm").Single()]);
        Assert.Contains(seed.StudyASeriesMr, dump.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CHUNORD")]
    [InlineData("CHEST")]
    public async Task Dcmtk_movescu_moves_into_our_scp(string pacs)
    {
        var received = Path.Combine(_work, "moved");
        await using var scp = StartTestScp(received);
        var peer = EchoAndStoreTests.Peer(pacs);
        var r = await Dcmtk.RunAsync("movescu", ["-S", "-aet", Peers.CallingAe, "-aec", peer.AeTitle, "-aem", Peers.CallingAe,
            "-k", "QueryRetrieveLevel=STUDY", "-k", $"StudyInstanceUID={seed.StudyB}", peer.Host, peer.Port.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Single(Directory.GetFiles(received, "*.dcm"));
    }

    [Fact]
    public async Task Move_to_an_unknown_destination_fails_with_a_typed_status()
    {
        var (level, keys) = DicomClient.RetrieveKeys(seed.StudyA);
        var ex = await Assert.ThrowsAsync<Dimse.DimseFailureException>(() =>
            EchoAndStoreTests.ClientFor(Peers.ChuNord).MoveAsync(QueryModel.StudyRoot, level, keys, "NOWHERE"));
        Assert.True(Dimse.DimseStatus.IsFailure(ex.Status));
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
