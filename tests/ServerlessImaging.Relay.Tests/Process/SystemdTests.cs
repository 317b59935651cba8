using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Dcmtk;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Process;

/// <summary>
/// The systemd side of the SCP's inbound rule. <c>systemd-socket-activate</c> (Debian's systemd package) hands
/// <c>si-relay</c> a listening socket exactly as <c>si-relay.socket</c> would; <c>systemd-analyze verify</c> checks the
/// shipped units. The kernel filter (IPAddressAllow= on the socket unit) needs systemd as PID 1 and is not run here.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class SystemdTests(LocalStackFixture stack)
{
    private string DeployDirectory => Path.Combine(stack.RepositoryRootPath, "functions", "ServerlessImaging.Relay", "deploy");

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The relay under systemd-socket-activate, which listens on <paramref name="listen"/> and execs the relay on the first connection.</summary>
    private static (System.Diagnostics.Process Process, StringBuilder Output) StartSocketActivated(RelayUnderTest relay, string listen)
    {
        var start = new ProcessStartInfo("systemd-socket-activate")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--listen=" + listen);
        // systemd-socket-activate passes only PATH, HOME, TERM and what -E names.
        var environment = relay.Environment().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        environment["TCP_NODELAY"] = "1";
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } dotnetRoot)
        {
            environment["DOTNET_ROOT"] = dotnetRoot;
        }

        foreach (var (key, value) in environment)
        {
            start.ArgumentList.Add($"--setenv={key}={value}");
        }

        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "si-relay.dll"));
        var output = new StringBuilder();
        var process = System.Diagnostics.Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    private static async Task WaitForListeningAsync(int port)
    {
        // systemd-socket-activate binds right after it starts; connecting before would be refused.
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"Nothing listens on port {port}.");
    }

    [Fact]
    public async Task Under_socket_activation_the_relay_accepts_the_PACS_on_the_socket_systemd_passed()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        var port = relay.Settings["Relay:Scp:Port"]!;
        var (process, output) = StartSocketActivated(relay, "127.0.0.1:" + port);
        try
        {
            // The first connection makes systemd-socket-activate exec the relay, which accepts it once started; had the
            // relay bound the port itself, it would fail (the port is taken) and nothing would answer this echo.
            await WaitForListeningAsync(int.Parse(port, CultureInfo.InvariantCulture));
            var echo = await DcmtkRunner.RunAsync("echoscu",
                ["-aet", stack.Endpoints.Site("chu-nord").AeTitle, "-aec", relay.Settings["Relay:Scp:AeTitle"]!, "-ta", "60", "127.0.0.1", port],
                CancellationToken.None, timeout: TimeSpan.FromSeconds(90));
            var intruder = await DcmtkRunner.RunAsync("echoscu",
                ["-aet", "INTRUDER", "-aec", relay.Settings["Relay:Scp:AeTitle"]!, "127.0.0.1", port], CancellationToken.None);

            Assert.True(echo.Succeeded, echo.StandardOutput + echo.StandardError + output);
            Assert.Contains("Calling AE Title Not Recognized", intruder.StandardOutput + intruder.StandardError, StringComparison.Ordinal);
            lock (output)
            {
                Assert.Contains("(socket from systemd)", output.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    [Fact]
    public async Task A_socket_on_another_port_than_Relay_Scp_Port_stops_the_relay_with_exit_code_2()
    {
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move");
        var port = FreePort();
        var (process, output) = StartSocketActivated(relay, "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture));
        try
        {
            await WaitForListeningAsync(port);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(deadline.Token);

            Assert.Equal(2, process.ExitCode);
            lock (output)
            {
                Assert.Contains("Relay:Scp:Port", output.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
    }

    [Fact]
    public async Task The_shipped_units_verify_and_filter_inbound_addresses_on_the_socket_only()
    {
        // systemd-analyze verify in a scratch root: the system's own units for the targets, a stand-in binary for ExecStart.
        var root = Directory.CreateTempSubdirectory("si-relay-units-").FullName;
        try
        {
            var units = Path.Combine(root, "etc", "systemd", "system");
            Directory.CreateDirectory(units);
            Directory.CreateDirectory(Path.Combine(root, "opt", "si-relay"));
            File.Copy("/bin/true", Path.Combine(root, "opt", "si-relay", "si-relay"));
            var systemUnits = Path.Combine(root, "usr", "lib", "systemd", "system");
            Directory.CreateDirectory(systemUnits);
            foreach (var file in Directory.EnumerateFiles("/lib/systemd/system", "*.target"))
            {
                File.Copy(file, Path.Combine(systemUnits, Path.GetFileName(file)));
            }

            File.Copy(Path.Combine(DeployDirectory, "si-relay.service"), Path.Combine(units, "si-relay.service"));
            File.Copy(Path.Combine(DeployDirectory, "si-relay.socket"), Path.Combine(units, "si-relay.socket"));

            var verify = await DcmtkRunner.RunAsync("systemd-analyze",
                ["verify", "--man=no", "--root=" + root, Path.Combine(units, "si-relay.socket"), Path.Combine(units, "si-relay.service")],
                CancellationToken.None);

            // Unknown or unparsable directives are only warnings to systemd: any output is a defect of the units.
            Assert.True(verify.ExitCode == 0 && verify.StandardOutput.Length + verify.StandardError.Length == 0, verify.StandardOutput + verify.StandardError);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        var socket = Directives(Path.Combine(DeployDirectory, "si-relay.socket"));
        var service = Directives(Path.Combine(DeployDirectory, "si-relay.service"));
        var example = Directives(Path.Combine(DeployDirectory, "relay.env.example"));

        Assert.Equal(["any"], socket["IPAddressDeny"]);
        Assert.NotEmpty(socket["IPAddressAllow"]);
        // On the service these would filter the outbound HTTPS to Azure as well; the service may not listen at all instead.
        Assert.False(service.Contains("IPAddressDeny") || service.Contains("IPAddressAllow"));
        Assert.Equal(["any"], service["SocketBindDeny"]);
        var listen = Assert.Single(socket["ListenStream"]);
        Assert.EndsWith(":" + Assert.Single(example["Relay__Scp__Port"]), listen, StringComparison.Ordinal);
        // Shipped loopback-only, like Relay:Scp:BindAddress's default: nothing off the host gets in before it is edited.
        Assert.StartsWith("127.0.0.1:", listen, StringComparison.Ordinal);
    }

    private static ILookup<string, string> Directives(string path) =>
        File.ReadAllLines(path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Contains('=', StringComparison.Ordinal))
            .ToLookup(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);
}
