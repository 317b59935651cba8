using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ServerlessImaging.Adapters.Tests.Atna;

/// <summary>
/// An rsyslog collector of the test's own (the same Debian rsyslog and configuration shape as the stack's <c>atna</c>), on a
/// free port with a throw-away CA, so a test can stop and restart it without touching the shared one.
/// </summary>
internal sealed class PrivateRsyslog : IAsyncDisposable
{
    private readonly string directory;
    private Process? process;

    private PrivateRsyslog(string directory, int port, TestCertificateAuthority authority)
    {
        this.directory = directory;
        Port = port;
        Authority = authority;
    }

    public int Port { get; }

    public TestCertificateAuthority Authority { get; }

    public string ReceivedPath => Path.Combine(directory, "received.log");

    /// <param name="requireClientCertificate">True: senders must present a certificate of <see cref="Authority"/> (rsyslog's x509/certvalid).</param>
    public static async Task<PrivateRsyslog> StartAsync(bool requireClientCertificate, CancellationToken cancellationToken)
    {
        var collector = new PrivateRsyslog(Directory.CreateTempSubdirectory("atna-rsyslog-").FullName, FreePort(), new TestCertificateAuthority("private ATNA test CA"));
        try
        {
            await collector.ConfigureAsync(requireClientCertificate, cancellationToken);
            await collector.StartAgainAsync(cancellationToken);
            return collector;
        }
        catch
        {
            await collector.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts rsyslogd and waits until it accepts connections.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("/usr/sbin/rsyslogd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-n", "-f", Path.Combine(directory, "rsyslog.conf"), "-i", Path.Combine(directory, "rsyslogd.pid") })
        {
            startInfo.ArgumentList.Add(argument);
        }

        process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start rsyslogd.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException($"rsyslogd exited with {process.ExitCode}.");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>SIGTERM (rsyslog writes what it received and closes its connections), then waits for the exit.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (process is null || process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) ?? throw new InvalidOperationException("Could not run kill."))
        {
            await kill.WaitForExitAsync(cancellationToken);
        }

        await process.WaitForExitAsync(cancellationToken);
        process.Dispose();
        process = null;
    }

    /// <summary>The lines received so far.</summary>
    public IReadOnlyList<string> Received() => File.Exists(ReceivedPath) ? File.ReadAllLines(ReceivedPath) : [];

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        Authority.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    private async Task ConfigureAsync(bool requireClientCertificate, CancellationToken cancellationToken)
    {
        var (server, certificatePem, keyPem) = Authority.Issue("localhost", server: true);
        server.Dispose();
        await File.WriteAllTextAsync(Path.Combine(directory, "ca.pem"), Authority.Certificate.ExportCertificatePem(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "server-cert.pem"), certificatePem, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "server-key.pem"), keyPem, cancellationToken);
        Directory.CreateDirectory(Path.Combine(directory, "work"));
        var authMode = requireClientCertificate ? "x509/certvalid" : "anon";
        await File.WriteAllTextAsync(Path.Combine(directory, "rsyslog.conf"), $"""
            global(
              workDirectory="{directory}/work"
              maxMessageSize="256k"
              defaultNetstreamDriver="gtls"
              defaultNetstreamDriverCAFile="{directory}/ca.pem"
              defaultNetstreamDriverCertFile="{directory}/server-cert.pem"
              defaultNetstreamDriverKeyFile="{directory}/server-key.pem"
            )
            module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="{authMode}")
            input(type="imtcp" address="127.0.0.1" port="{Port}")
            template(name="rawline" type="string" string="%rawmsg%\n")
            action(type="omfile" file="{directory}/received.log" template="rawline")

            """, cancellationToken);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
