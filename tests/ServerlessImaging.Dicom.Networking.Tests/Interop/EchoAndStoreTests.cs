using System.Net.Sockets;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.Tests.Support;
using ServerlessImaging.Testing.Stack;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

[Collection(LocalStackFixture.CollectionName)]
public sealed class EchoAndStoreTests : IDisposable
{
    public EchoAndStoreTests(LocalStackFixture stack) => Peers.Bind(stack);

    private readonly string _work = Directory.CreateTempSubdirectory("si-dimse-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    public static TheoryData<string> PacsNames => ["CHUNORD", "CLINSUD", "CHEST"];

    internal static PacsPeer Peer(string name) => name switch
    {
        "CHUNORD" => Peers.ChuNord,
        "CLINSUD" => Peers.CliniqueSud,
        _ => Peers.ChEst,
    };

    internal static DicomClient ClientFor(PacsPeer peer, string callingAe = Peers.CallingAe, AssociationOptions? options = null) =>
        new(new DicomClientOptions
        {
            Host = peer.Host, Port = peer.Port, CallingAeTitle = callingAe, CalledAeTitle = peer.AeTitle,
            Association = options ?? AssociationOptions.Default,
        });

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Our_echo_scu_against_pacs_succeeds(string pacs)
    {
        var status = await ClientFor(Peer(pacs)).EchoAsync();
        Assert.Equal(DimseStatus.Success, status);
    }

    [Theory]
    [MemberData(nameof(PacsNames))]
    public async Task Our_store_scu_into_pacs_stores_every_file(string pacs)
    {
        var study = Dcmtk.NewUid();
        var series = Dcmtk.NewUid();
        var files = new[]
        {
            await Dcmtk.MakeUniqueCopyAsync("CT_small.dcm", _work, study, series, Dcmtk.NewUid(), patientName: "STORE^TEST"),
            await Dcmtk.MakeUniqueCopyAsync("MR_small.dcm", _work, study, series, Dcmtk.NewUid(), patientName: "STORE^TEST"),
            await Dcmtk.MakeUniqueCopyAsync("MR_small_implicit.dcm", _work, study, series, Dcmtk.NewUid(), patientName: "STORE^TEST"),
        };
        var results = await ClientFor(Peer(pacs)).StoreAsync(files);
        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.True(r.Succeeded, $"{Path.GetFileName(r.Path)}: 0x{r.Status:X4} {r.Error}"));
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(16 * 1024)]
    [InlineData(1024 * 1024)]
    public async Task Store_scu_into_our_scp_with_max_pdu_preserves_data_set_bytes(int maxPdu)
    {
        var options = new AssociationOptions { MaxPduLength = (uint)maxPdu };
        var received = Path.Combine(_work, "received");
        await using var server = DicomServer.Start(new DicomServerOptions { AeTitle = "OUR_SCP", Port = 0, Association = options }, new DirectoryInstanceSink(received));
        var file = await Dcmtk.MakeUniqueCopyAsync("CT_small.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid());
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "OUR_SCP", Association = options });

        var result = Assert.Single(await client.StoreAsync([file]));

        Assert.True(result.Succeeded, result.Error);
        var stored = Path.Combine(received, result.SopInstanceUid + ".dcm");
        Assert.True(File.Exists(stored));
        Assert.Equal(await DataSetBytesAsync(file), await DataSetBytesAsync(stored));
        Assert.Empty(Directory.GetFiles(received, "*.part"));
    }

    [Fact]
    public async Task Dcmtk_echoscu_and_storescu_against_our_scp()
    {
        var received = Path.Combine(_work, "received");
        await using var server = DicomServer.Start(new DicomServerOptions { AeTitle = "OUR_SCP", Port = 0 }, new DirectoryInstanceSink(received));
        var outcomes = new List<StoreOutcome>();
        server.InstanceReceived += o => { lock (outcomes) outcomes.Add(o); };

        var echo = await Dcmtk.RunAsync("echoscu", ["-aet", "ECHOSCU", "-aec", "OUR_SCP", "127.0.0.1", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, echo.ExitCode);

        var files = new[]
        {
            await Dcmtk.MakeUniqueCopyAsync("CT_small.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid()),
            await Dcmtk.MakeUniqueCopyAsync("MR_small.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid()),
        };
        var store = await Dcmtk.RunAsync("storescu", ["-aet", "STORESCU", "-aec", "OUR_SCP", "127.0.0.1", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. files]);
        Assert.True(store.ExitCode == 0, store.All);
        Assert.Equal(2, Directory.GetFiles(received, "*.dcm").Length);
        Assert.All(outcomes, o => Assert.Equal(DimseStatus.Success, o.Status));
        // dcmtk can read what we wrote: valid Part 10 with the data set intact.
        foreach (var f in Directory.GetFiles(received, "*.dcm"))
        {
            var dump = await Dcmtk.RunAsync("dcmdump", ["-q", f]);
            Assert.True(dump.ExitCode == 0, dump.All);
            Assert.Contains("(7fe0,0010)", dump.StdOut, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Our_scp_rejects_an_unknown_calling_ae_with_reason_3()
    {
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "OUR_SCP", Port = 0, AllowedCallingAeTitles = new HashSet<string> { "SI_TEST" },
        }, new DirectoryInstanceSink(Path.Combine(_work, "r")));
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "STRANGER", CalledAeTitle = "OUR_SCP" });
        var ex = await Assert.ThrowsAsync<AssociationRejectedException>(() => client.EchoAsync());
        Assert.Equal(RejectSource.ServiceUser, ex.RejectSource);
        Assert.Equal((byte)RejectReason.CallingAeNotRecognized, ex.Reason);

        var storescu = await Dcmtk.RunAsync("echoscu", ["-aet", "STRANGER", "-aec", "OUR_SCP", "127.0.0.1", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.NotEqual(0, storescu.ExitCode);
    }

    [Fact]
    public async Task Dcmqrscp_rejects_an_unknown_calling_ae_at_association()
    {
        var client = ClientFor(Peers.ChEst, callingAe: "NOBODY_KNOWN");
        var ex = await Assert.ThrowsAsync<AssociationRejectedException>(() => client.EchoAsync());
        Assert.Equal(RejectResult.RejectedPermanent, ex.Result);
    }

    [Fact]
    public async Task Orthanc_aborts_a_query_from_an_unknown_calling_ae()
    {
        // Orthanc accepts the association and C-ECHO from anyone, but aborts C-FIND from AEs missing from DicomModalities.
        var client = ClientFor(Peers.ChuNord, callingAe: "NOBODY_KNOWN");
        var ex = await Assert.ThrowsAsync<AssociationAbortedException>(async () =>
        {
            await foreach (var _ in client.FindRawAsync(DicomUids.StudyRootFind, StudyQueryIdentifier.Bytes)) { }
        });
        Assert.Equal(AbortSource.ServiceUser, ex.AbortSource);
    }

    [Fact]
    public async Task Our_scp_refuses_an_unsupported_sop_class_and_the_file_fails_clearly()
    {
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "OUR_SCP", Port = 0, AcceptedSopClasses = ["1.2.840.10008.5.1.4.1.1.4"], // MR only
        }, new DirectoryInstanceSink(Path.Combine(_work, "r")));
        var ct = await Dcmtk.MakeUniqueCopyAsync("CT_small.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid());
        var mr = await Dcmtk.MakeUniqueCopyAsync("MR_small.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid());
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "OUR_SCP" });
        var results = await client.StoreAsync([ct, mr]);
        Assert.Equal(DimseStatus.SopClassNotSupported, results[0].Status);
        Assert.Contains("no presentation context", results[0].Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(results[1].Succeeded);
    }

    [Fact]
    public async Task Compressed_data_is_never_transcoded_and_fails_clearly_when_its_syntax_is_refused()
    {
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "OUR_SCP", Port = 0, AcceptedTransferSyntaxes = [DicomUids.ImplicitVrLittleEndian, DicomUids.ExplicitVrLittleEndian],
            AcceptedSopClasses = [.. DicomUids.CommonStorageSopClasses, "1.2.840.10008.5.1.4.1.1.7"],
        }, new DirectoryInstanceSink(Path.Combine(_work, "r")));
        var rle = await Dcmtk.MakeUniqueCopyAsync("SC_rgb_rle.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid());
        var ct = await Dcmtk.MakeUniqueCopyAsync("CT_small.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid());
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "OUR_SCP" });

        var results = await client.StoreAsync([rle, ct]);

        Assert.False(results[0].Succeeded);
        Assert.Equal(DimseStatus.SopClassNotSupported, results[0].Status);
        Assert.Contains("no presentation context", results[0].Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(results[1].Succeeded, results[1].Error);
    }

    [Fact]
    public async Task A_peer_that_never_answers_fires_the_artim_timer_and_leaves_nothing_open()
    {
        using var silent = new TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var accepted = silent.AcceptSocketAsync();
        var client = new DicomClient(new DicomClientOptions
        {
            Host = "127.0.0.1", Port = port, CallingAeTitle = "SI_TEST", CalledAeTitle = "SILENT",
            Association = new AssociationOptions { ArtimTimeout = TimeSpan.FromMilliseconds(500) },
        });
        var ex = await Assert.ThrowsAsync<DicomTimeoutException>(() => client.EchoAsync());
        Assert.Equal(DicomTimer.Artim, ex.Timer);
        using var peerSide = await accepted;
        // Our side closed the connection: the silent peer reads the A-ASSOCIATE-RQ and A-ABORT, then end of stream.
        var buffer = new byte[65536];
        var total = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await peerSide.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0) total += n;
        Assert.True(total > 0);
    }

    [Fact]
    public async Task A_peer_that_accepts_but_never_answers_a_dimse_request_fires_the_dimse_timer()
    {
        // Our own SCP accepts the association; the "peer" here is a raw socket that completes association then goes silent.
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var peerTask = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var header = new byte[6];
            await ReceiveExactly(socket, header);
            var body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2))];
            await ReceiveExactly(socket, body);
            var rq = AssociatePduCodec.DecodeRequest(body);
            var ac = AssociatePduCodec.EncodeAccept(new AssociateAccept
            {
                CalledAeTitle = rq.CalledAeTitle, CallingAeTitle = rq.CallingAeTitle,
                PresentationContexts = [.. rq.PresentationContexts.Select(p => new PresentationContextAnswer(p.Id, PresentationContextResult.Acceptance, p.TransferSyntaxes[0]))],
            });
            await socket.SendAsync(ac, SocketFlags.None);
            var sink = new byte[4096];
            while (await socket.ReceiveAsync(sink, SocketFlags.None) > 0) { }
        });
        var client = new DicomClient(new DicomClientOptions
        {
            Host = "127.0.0.1", Port = port, CallingAeTitle = "SI_TEST", CalledAeTitle = "MUTE",
            Association = new AssociationOptions { DimseTimeout = TimeSpan.FromMilliseconds(500) },
        });
        var ex = await Assert.ThrowsAsync<DicomTimeoutException>(() => client.EchoAsync());
        Assert.Equal(DicomTimer.Dimse, ex.Timer);
        await peerTask.WaitAsync(TimeSpan.FromSeconds(10)); // completes only because we closed the socket
    }

    [Fact]
    public async Task A_malformed_pdu_from_the_peer_aborts_with_a_typed_error()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var peerTask = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var header = new byte[6];
            await ReceiveExactly(socket, header);
            // Claim a 2 GB A-ASSOCIATE-AC: must be refused by the cap, not allocated.
            await socket.SendAsync(new byte[] { 0x02, 0, 0x7F, 0xFF, 0xFF, 0xFF }, SocketFlags.None);
            var sink = new byte[4096];
            var received = new List<byte>();
            int n;
            while ((n = await socket.ReceiveAsync(sink, SocketFlags.None)) > 0) received.AddRange(sink.AsSpan(0, n).ToArray());
            return received;
        });
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = port, CallingAeTitle = "SI_TEST", CalledAeTitle = "EVIL" });
        var ex = await Assert.ThrowsAsync<DicomProtocolException>(() => client.EchoAsync());
        Assert.Equal(AbortReason.InvalidPduParameterValue, ex.Reason);
        var bytes = await peerTask.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains((byte)PduType.Abort, bytes); // the rest of the RQ body then an A-ABORT
    }

    private static async Task ReceiveExactly(Socket socket, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
            if (n == 0) throw new IOException("closed");
            read += n;
        }
    }

    private static async Task<byte[]> DataSetBytesAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        await Part10Header.ReadAsync(stream, CancellationToken.None);
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms);
        return ms.ToArray();
    }
}
