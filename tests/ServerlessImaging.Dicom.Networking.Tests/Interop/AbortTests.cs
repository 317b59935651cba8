using System.Buffers.Binary;
using System.Net;
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
public sealed class AbortTests : IDisposable
{
    public AbortTests(LocalStackFixture stack) => Peers.Bind(stack);

    private readonly string _work = Directory.CreateTempSubdirectory("si-dimse-ab-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Peer_abort_mid_transfer_into_our_scp_leaves_no_partial_file()
    {
        var received = Path.Combine(_work, "in");
        await using var server = DicomServer.Start(new DicomServerOptions { AeTitle = "OUR_SCP", Port = 0 }, new DirectoryInstanceSink(received));
        var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.AssociationFailed += ex => failure.TrySetResult(ex);

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        await socket.SendAsync(AssociatePduCodec.EncodeRequest(new AssociateRequest
        {
            CalledAeTitle = "OUR_SCP", CallingAeTitle = "RAW",
            PresentationContexts = [new PresentationContextProposal(1, TestInstances.CtImageStorage, [DicomUids.ExplicitVrLittleEndian])],
        }), SocketFlags.None);
        var header = new byte[6];
        await ReceiveExactly(socket, header);
        Assert.Equal((byte)PduType.AssociateAccept, header[0]);
        await ReceiveExactly(socket, new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2))]);

        var command = new DimseCommand
        {
            Field = CommandField.CStoreRequest, MessageId = 1, AffectedSopClassUid = TestInstances.CtImageStorage,
            AffectedSopInstanceUid = "1.2.3.4", HasDataSet = true,
        }.Encode();
        await socket.SendAsync(Pdv(1, 0x03, command), SocketFlags.None);
        await socket.SendAsync(Pdv(1, 0x00, new byte[10_000]), SocketFlags.None); // first fragment, not last
        await socket.SendAsync(AssociatePduCodec.EncodeAbort(AbortSource.ServiceUser, AbortReason.NotSpecified), SocketFlags.None);

        var error = await failure.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var aborted = Assert.IsType<AssociationAbortedException>(error);
        Assert.Equal(AbortSource.ServiceUser, aborted.AbortSource);
        Assert.Empty(Directory.GetFiles(received)); // neither .dcm nor .part
    }

    [Fact]
    public async Task Peer_abort_mid_transfer_from_our_store_scu_surfaces_as_typed_exception()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var peer = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var header = new byte[6];
            await ReceiveExactly(socket, header);
            var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2))];
            await ReceiveExactly(socket, body);
            var rq = AssociatePduCodec.DecodeRequest(body);
            await socket.SendAsync(AssociatePduCodec.EncodeAccept(new AssociateAccept
            {
                CalledAeTitle = rq.CalledAeTitle, CallingAeTitle = rq.CallingAeTitle, MaxPduLength = 16384,
                PresentationContexts = [.. rq.PresentationContexts.Select(p => new PresentationContextAnswer(p.Id, PresentationContextResult.Acceptance, p.TransferSyntaxes[0]))],
            }), SocketFlags.None);
            await ReceiveExactly(socket, new byte[20_000]); // part of the data set
            await socket.SendAsync(AssociatePduCodec.EncodeAbort(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu), SocketFlags.None);
            var sink = new byte[65536];
            try { while (await socket.ReceiveAsync(sink, SocketFlags.None) > 0) { } } catch (SocketException) { }
        });
        var big = await TestInstances.WriteAsync(_work, new TestPatient("ABORT", "TEST", "P1"), DicomUid.Generate(), DicomUid.Generate(), new DateOnly(2024, 1, 1), size: 256);
        var client = new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = port, CallingAeTitle = "SI_TEST", CalledAeTitle = "ABORTER" });

        var ex = await Assert.ThrowsAnyAsync<DicomNetworkException>(() => client.StoreAsync([big]));
        Assert.True(ex is AssociationAbortedException, ex.ToString());
        await peer.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static byte[] Pdv(byte pcid, byte control, byte[] data)
    {
        var pdu = new byte[12 + data.Length];
        pdu[0] = (byte)PduType.DataTransfer;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)(6 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(6), (uint)(2 + data.Length));
        pdu[10] = pcid;
        pdu[11] = control;
        data.CopyTo(pdu, 12);
        return pdu;
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
}
