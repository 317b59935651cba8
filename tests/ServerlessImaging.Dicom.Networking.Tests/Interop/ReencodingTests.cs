using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

/// <summary>
/// Explicit &lt;-&gt; Implicit VR Little Endian re-encoding in the store SCU when the peer refuses the file's own uncompressed
/// syntax. Pixel data is larger than the core's lazy threshold and than one PDU, so the streamed path is what is tested.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class ReencodingTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("si-dimse-re-").FullName;

    public ReencodingTests(LocalStackFixture stack) => Peers.Bind(stack);

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<string> LargeInstanceAsync(DicomTransferSyntax syntax)
    {
        var patient = new TestPatient("REENCODE", "Test", "RE" + Random.Shared.Next(1_000_000).ToString(CultureInfo.InvariantCulture));
        var explicitFile = await TestInstances.WriteAsync(Path.Combine(_work, "src"), patient, DicomUid.Generate(), DicomUid.Generate(), new DateOnly(2024, 1, 2), size: 300);
        if (syntax == DicomTransferSyntax.ExplicitVRLittleEndian) return explicitFile;
        var file = await DicomFile.OpenAsync(explicitFile);
        var target = Path.Combine(_work, "src", Path.GetFileNameWithoutExtension(explicitFile) + ".implicit.dcm");
        await file.SaveAsync(target, syntax);
        File.Delete(explicitFile);
        return target;
    }

    [Fact]
    public async Task Explicit_file_is_re_encoded_to_implicit_for_a_storescp_that_accepts_only_implicit()
    {
        var source = await LargeInstanceAsync(DicomTransferSyntax.ExplicitVRLittleEndian);
        var received = Directory.CreateDirectory(Path.Combine(_work, "storescp")).FullName;
        var port = FreePort();
        // +xi: implicit VR LE only; +B: write the data set exactly as received (so the file shows what went over the wire).
        using var storescp = StartDcmtk("storescp", ["-aet", "IMPLICIT_ONLY", "+xi", "+B", "-uf", "-od", received, port.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            await WaitListeningAsync(port);
            var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = port, CallingAeTitle = "SI_TEST", CalledAeTitle = "IMPLICIT_ONLY" });

            var result = Assert.Single(await client.StoreAsync([source]));

            Assert.True(result.Succeeded, $"0x{result.Status:X4} {result.Error}");
            var stored = Assert.Single(Directory.GetFiles(received));
            Assert.Equal(DicomUids.ImplicitVrLittleEndian, await DatasetAssert.TransferSyntaxOfAsync(stored));
            await DatasetAssert.SameContentAsync(source, stored);
            var dump = await Dcmtk.RunAsync("dcmdump", ["-q", stored]);
            Assert.True(dump.ExitCode == 0, dump.StdErr);
        }
        finally
        {
            storescp.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Implicit_file_is_re_encoded_to_explicit_for_an_scp_that_accepts_only_explicit()
    {
        var source = await LargeInstanceAsync(DicomTransferSyntax.ImplicitVRLittleEndian);
        var received = Path.Combine(_work, "ours");
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "EXPLICIT_ONLY", Port = 0, AcceptedTransferSyntaxes = [DicomUids.ExplicitVrLittleEndian],
            Association = new ServerlessImaging.Dicom.Networking.UpperLayer.AssociationOptions { MaxPduLength = 16 * 1024 },
        }, new DirectoryInstanceSink(received));
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "EXPLICIT_ONLY" });

        var result = Assert.Single(await client.StoreAsync([source]));

        Assert.True(result.Succeeded, $"0x{result.Status:X4} {result.Error}");
        var stored = Path.Combine(received, result.SopInstanceUid + ".dcm");
        Assert.Equal(DicomUids.ExplicitVrLittleEndian, await DatasetAssert.TransferSyntaxOfAsync(stored));
        await DatasetAssert.SameContentAsync(source, stored);
        var dump = await Dcmtk.RunAsync("dcmdump", ["-q", stored]);
        Assert.True(dump.ExitCode == 0, dump.StdErr);
    }

    [Fact]
    public async Task Big_endian_file_is_re_encoded_to_little_endian_and_the_unchanged_file_in_the_batch_still_goes_as_is()
    {
        var bigEndian = await Dcmtk.MakeUniqueCopyAsync("MR_small_bigendian.dcm", _work, Dcmtk.NewUid(), Dcmtk.NewUid(), Dcmtk.NewUid());
        var explicitFile = await LargeInstanceAsync(DicomTransferSyntax.ExplicitVRLittleEndian);
        var received = Path.Combine(_work, "ours");
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "LE_ONLY", Port = 0, AcceptedTransferSyntaxes = DicomUids.UncompressedTransferSyntaxes,
        }, new DirectoryInstanceSink(received));
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "LE_ONLY" });

        var results = await client.StoreAsync([bigEndian, explicitFile]);

        Assert.All(results, r => Assert.True(r.Succeeded, $"0x{r.Status:X4} {r.Error}"));
        var storedBig = Path.Combine(received, results[0].SopInstanceUid + ".dcm");
        Assert.True(DicomUids.IsUncompressedLittleEndian(await DatasetAssert.TransferSyntaxOfAsync(storedBig)));
        await DatasetAssert.SameContentAsync(bigEndian, storedBig); // our reader swaps big endian values on read
        var storedExplicit = Path.Combine(received, results[1].SopInstanceUid + ".dcm");
        Assert.Equal(DicomUids.ExplicitVrLittleEndian, await DatasetAssert.TransferSyntaxOfAsync(storedExplicit));
    }

    [Fact]
    public async Task Orthanc_stores_implicit_and_big_endian_files_and_gives_back_the_same_values()
    {
        var study = Dcmtk.NewUid();
        var implicitFile = await Dcmtk.MakeUniqueCopyAsync("MR_small_implicit.dcm", _work, study, Dcmtk.NewUid(), Dcmtk.NewUid());
        var bigEndian = await Dcmtk.MakeUniqueCopyAsync("MR_small_bigendian.dcm", _work, study, Dcmtk.NewUid(), Dcmtk.NewUid());
        var client = EchoAndStoreTests.ClientFor(Peers.ChuNord);

        var results = await client.StoreAsync([implicitFile, bigEndian]);
        Assert.All(results, r => Assert.True(r.Succeeded, $"0x{r.Status:X4} {r.Error}"));

        var back = Path.Combine(_work, "back");
        var (level, keys) = DicomClient.RetrieveKeys(study);
        var get = await client.GetAsync(QueryModel.StudyRoot, level, keys, new DirectoryInstanceSink(back));
        Assert.Equal(2, get.Received.Count);
        await DatasetAssert.SameContentAsync(implicitFile, Path.Combine(back, results[0].SopInstanceUid + ".dcm"));
        var pixels = (await DicomFile.OpenAsync(bigEndian)).Dataset.OfType<DicomElement>().Single(e => e.Tag == DicomTag.PixelData).Value.GetBytes();
        var pixelsBack = (await DicomFile.OpenAsync(Path.Combine(back, results[1].SopInstanceUid + ".dcm"))).Dataset.OfType<DicomElement>().Single(e => e.Tag == DicomTag.PixelData).Value.GetBytes();
        Assert.True(pixels.Span.SequenceEqual(pixelsBack.Span));
    }

    [Fact]
    public async Task A_file_that_cannot_be_re_encoded_fails_alone_and_the_others_are_stored()
    {
        var good = await LargeInstanceAsync(DicomTransferSyntax.ImplicitVRLittleEndian);
        // Valid Part 10 header (so it is proposed), truncated data set: the re-encoder's parse fails before anything is sent.
        var broken = await LargeInstanceAsync(DicomTransferSyntax.ImplicitVRLittleEndian);
        var bytes = await File.ReadAllBytesAsync(broken);
        var headerEnd = 132 + 12 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(140));
        await File.WriteAllBytesAsync(broken, bytes.AsSpan(0, headerEnd + 30).ToArray());
        var received = Path.Combine(_work, "ours");
        await using var server = DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "EXPLICIT_ONLY", Port = 0, AcceptedTransferSyntaxes = [DicomUids.ExplicitVrLittleEndian],
        }, new DirectoryInstanceSink(received));
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = server.Port, CallingAeTitle = "SI_TEST", CalledAeTitle = "EXPLICIT_ONLY" });

        var results = await client.StoreAsync([broken, good]);

        Assert.False(results[0].Succeeded);
        Assert.Contains("could not be sent", results[0].Error, StringComparison.Ordinal);
        Assert.True(results[1].Succeeded, $"0x{results[1].Status:X4} {results[1].Error}");
        Assert.Single(Directory.GetFiles(received, "*.dcm"));
        Assert.Empty(Directory.GetFiles(received, "*.part"));
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    internal static Process StartDcmtk(string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["TCP_NODELAY"] = "1";
        var p = Process.Start(psi) ?? throw new InvalidOperationException(tool + " did not start");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    internal static async Task WaitListeningAsync(int port)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(25, deadline.Token);
            }
        }
    }
}
