using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.DicomCli.Commands;

/// <summary>Shared by the network verbs: typed DIMSE failures become one line on stderr and exit 1 (other errors go to <see cref="CliErrors"/>).</summary>
internal static class NetworkCliErrors
{
    public static Task<int> RunAsync(Func<Task<int>> action) => CliErrors.RunAsync(async () =>
    {
        try
        {
            return await action();
        }
        catch (DicomNetworkException ex)
        {
            await Console.Error.WriteLineAsync($"dicom: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            await Console.Error.WriteLineAsync($"dicom: connection failed: {ex.Message}");
            return 1;
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"dicom: {ex.Message}");
            return 1;
        }
    });

    public static DicomClient Client(string host, int port, string aet, string aec) =>
        new(new DicomClientOptions { Host = host, Port = port, CallingAeTitle = aet, CalledAeTitle = aec });
}
