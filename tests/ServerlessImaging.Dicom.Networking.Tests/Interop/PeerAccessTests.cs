using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.Server;
using ServerlessImaging.Dicom.Networking.Storage;
using ServerlessImaging.Dicom.Networking.Tests.Support;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Tests.Interop;

/// <summary>
/// The SCP's admission rules against real peers: a peer address outside <see cref="DicomServerOptions.AllowedPeerNetworks"/>
/// (raw sockets bound to 127.0.0.1 or 127.0.0.2, dcmtk's echoscu), an unlisted calling AE title, and a listener handed over
/// ready-made. No stack needed: every server here listens on a free loopback port.
/// </summary>
public sealed class PeerAccessTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("si-dimse-peers-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private DicomServer StartServer(IReadOnlyCollection<IPNetwork>? allowed, Socket? listener = null) =>
        DicomServer.Start(new DicomServerOptions
        {
            AeTitle = "PEER_SCP",
            BindAddress = IPAddress.Loopback,
            Listener = listener,
            AllowedPeerNetworks = allowed,
            AllowedCallingAeTitles = new HashSet<string>(StringComparer.Ordinal) { "GOOD_SCU" },
        }, new DirectoryInstanceSink(_work));

    private static Task<Dcmtk.Result> EchoscuAsync(int port, string callingAe) =>
        Dcmtk.RunAsync("echoscu", ["-aet", callingAe, "-aec", "PEER_SCP", "-to", "10", "-ta", "10", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(30));

    /// <summary>Connects from <paramref name="source"/>, optionally sends an A-ASSOCIATE-RQ, and returns the first byte answered (-1: closed).</summary>
    private static async Task<int> FirstByteAnsweredAsync(IPAddress source, int port, bool sendRequest)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        if (sendRequest)
        {
            await socket.SendAsync(AssociatePduCodec.EncodeRequest(new AssociateRequest
            {
                CalledAeTitle = "PEER_SCP",
                CallingAeTitle = "GOOD_SCU",
                PresentationContexts = [new PresentationContextProposal(1, DicomUids.Verification, [DicomUids.ImplicitVrLittleEndian])],
            }));
        }

        // Well under the server's 30 s ARTIM: an answer or a close within this comes from the admission check, not a timer.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[1];
        try
        {
            return await socket.ReceiveAsync(buffer, deadline.Token) == 0 ? -1 : buffer[0];
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return -1;
        }
    }

    [Fact]
    public async Task A_connection_from_an_address_outside_the_allowed_networks_is_closed_before_anything_is_read()
    {
        var refused = new ConcurrentQueue<IPEndPoint>();
        await using var server = StartServer([IPNetwork.Parse("127.0.0.2/32")]);
        server.ConnectionRefused += refused.Enqueue;

        // Nothing sent, yet the connection ends at once: the server never waited for (or parsed) a PDU from this peer.
        Assert.Equal(-1, await FirstByteAnsweredAsync(IPAddress.Loopback, server.Port, sendRequest: false));
        var echo = await EchoscuAsync(server.Port, "GOOD_SCU");

        Assert.NotEqual(0, echo.ExitCode);
        Assert.DoesNotContain("Association Accepted", echo.All, StringComparison.Ordinal);
        Assert.Equal(2, refused.Count);
        Assert.All(refused, peer => Assert.Equal(IPAddress.Loopback, peer.Address));
    }

    [Fact]
    public async Task The_same_request_is_accepted_from_an_allowed_address_and_refused_from_another()
    {
        await using var server = StartServer([IPNetwork.Parse("127.0.0.2/32")]);

        Assert.Equal(0x02, await FirstByteAnsweredAsync(IPAddress.Parse("127.0.0.2"), server.Port, sendRequest: true)); // A-ASSOCIATE-AC
        Assert.Equal(-1, await FirstByteAnsweredAsync(IPAddress.Loopback, server.Port, sendRequest: true));
    }

    [Fact]
    public async Task A_peer_inside_an_allowed_range_associates_and_echoes()
    {
        await using var server = StartServer([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("127.0.0.0/8")]);

        var echo = await EchoscuAsync(server.Port, "GOOD_SCU");

        Assert.True(echo.ExitCode == 0, echo.All);
    }

    [Fact]
    public async Task An_unlisted_calling_AE_title_is_rejected_permanently_and_reported()
    {
        var rejected = new ConcurrentQueue<RejectedAssociation>();
        await using var server = StartServer(allowed: null);
        server.AssociationRejected += rejected.Enqueue;

        var echo = await EchoscuAsync(server.Port, "INTRUDER");

        Assert.NotEqual(0, echo.ExitCode);
        Assert.Contains("Rejected Permanent", echo.All, StringComparison.Ordinal);
        Assert.Contains("Calling AE Title Not Recognized", echo.All, StringComparison.Ordinal);
        var rejection = Assert.Single(rejected);
        Assert.Equal("INTRUDER", rejection.CallingAeTitle);
        Assert.Equal("PEER_SCP", rejection.CalledAeTitle);
        Assert.Equal(RejectReason.CallingAeNotRecognized, rejection.Reason);
        Assert.Equal(IPAddress.Loopback, rejection.Peer?.Address);
    }

    [Fact]
    public async Task A_listener_handed_over_ready_made_is_the_one_accepted_on()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(8);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        await using var server = StartServer([IPNetwork.Parse("127.0.0.1/32")], listener);

        var status = await new DicomClient(new DicomClientOptions { Host = "127.0.0.1", Port = port, CallingAeTitle = "GOOD_SCU", CalledAeTitle = "PEER_SCP" }).EchoAsync();

        Assert.Equal(port, server.Port);
        Assert.Equal(DimseStatus.Success, status);
    }
}
