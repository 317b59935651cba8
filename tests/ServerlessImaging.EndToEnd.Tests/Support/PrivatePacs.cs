using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>
/// A site PACS of one test only: dcmtk's dcmqrscp on a free port with its own configuration and database (it forks a
/// child per association; they share its process group, so killing the group stops every association at once), stopped and started again with the same data. Used where a test must
/// stop a PACS without disturbing the shared ones, and for C-MOVE: it knows the test relay's own SCP as a destination.
/// </summary>
internal sealed class PrivatePacs : IAsyncDisposable
{
    private readonly string directory;
    private readonly string config;
    private ChildProcess? process;

    private PrivatePacs(string directory, string config, int port)
    {
        this.directory = directory;
        this.config = config;
        Address = new PacsAddress(AeTitle, "127.0.0.1", port);
    }

    public const string AeTitle = "FAULTPACS";

    public PacsAddress Address { get; }

    /// <summary>Writes the configuration: SI_TEST may store and query, each peer (AE title, SCP port) may query and be a C-MOVE destination.</summary>
    public static PrivatePacs Create(string directory, IEnumerable<(string AeTitle, int Port)> peers)
    {
        var storage = Path.Combine(directory, "storage");
        Directory.CreateDirectory(storage);
        var port = AppAndRelays.FreeLoopbackPort();
        var all = peers.Append(("SI_TEST", 11130)).ToList();
        var hosts = string.Join('\n', all.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Item1.ToLowerInvariant()} = ({p.Item1}, 127.0.0.1, {p.Item2})")));
        var config = Path.Combine(directory, "dcmqrscp.cfg");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            # Written by the fault-injection suite: a private site PACS for one test.
            NetworkTCPPort = {port}
            MaxPDUSize = 65536
            MaxAssociations = 16

            HostTable BEGIN
            {hosts}
            accepted = {string.Join(", ", all.Select(p => p.Item1.ToLowerInvariant()))}
            HostTable END

            VendorTable BEGIN
            VendorTable END

            AETable BEGIN
            {AeTitle} {storage} RW (200, 1024mb) accepted
            AETable END

            """));
        return new PrivatePacs(directory, config, port);
    }

    /// <summary>Starts dcmqrscp (again, on the same port and data) and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        process = ChildProcess.Start("pacs", "dcmqrscp", ["--disable-host-lookup", "--config", config], new Dictionary<string, string> { ["TCP_NODELAY"] = "1" }, directory, directory, appendLog: true);
        await Waiting.UntilAsync("the private dcmqrscp to accept connections", TimeSpan.FromSeconds(20), async ct =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("dcmqrscp exited: " + ScriptRunner.Tail(process.LogFile, 5));
            }

            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, Address.Port, ct);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, CancellationToken.None, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>SIGKILL: open associations break at once, new ones are refused.</summary>
    public Task KillAsync() => process is null ? Task.CompletedTask : ProcessGroups.KillAsync(process.Pid);

    public async ValueTask DisposeAsync() => await KillAsync();
}
