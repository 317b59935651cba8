using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Tests.UpperLayer;

/// <summary>PDU framing of the batched writer, read back as raw bytes from the other end of a loopback socket.</summary>
public sealed class PdvBatchWriterTests
{
    private sealed record Pdv(byte ContextId, bool IsCommand, bool IsLast, byte[] Data);

    [Theory]
    [InlineData(0, 16378, 256 * 1024)]
    [InlineData(1, 16378, 256 * 1024)]
    [InlineData(16378, 16378, 256 * 1024)]
    [InlineData(16379, 16378, 256 * 1024)]
    [InlineData(700_001, 16378, 256 * 1024)]
    [InlineData(700_001, 1024 * 1024 - 6, 256 * 1024)] // peer allows 1 MB PDUs: PDVs end at the batch instead
    [InlineData(1000, 58, 100)]                        // tiny batches: every boundary case many times
    public async Task Command_then_data_come_out_as_legal_pdus_with_one_last_bit_each(int dataLength, int maxPdvData, int batchBytes)
    {
        var command = Enumerable.Range(0, 150).Select(i => (byte)(i * 7)).ToArray();
        var data = new byte[dataLength];
        Random.Shared.NextBytes(data);

        var pdvs = await FrameAsync(maxPdvData, batchBytes, async writer =>
        {
            await writer.WriteCommandAsync(command, CancellationToken.None);
            // Uneven writes, as a re-encoder would produce them.
            for (var offset = 0; offset < data.Length;)
            {
                var n = Math.Min(data.Length - offset, 1 + Random.Shared.Next(40_000));
                await writer.WriteAsync(data.AsMemory(offset, n));
                offset += n;
            }
            await writer.CompleteAsync(hasDataSet: true, CancellationToken.None);
        });

        Assert.All(pdvs, p => Assert.True(p.Data.Length <= maxPdvData, $"PDV of {p.Data.Length} > {maxPdvData}"));
        Assert.All(pdvs, p => Assert.Equal(5, p.ContextId));
        var commandPdvs = pdvs.TakeWhile(p => p.IsCommand).ToList();
        var dataPdvs = pdvs.Skip(commandPdvs.Count).ToList();
        Assert.All(dataPdvs, p => Assert.False(p.IsCommand));
        Assert.Equal(command, commandPdvs.SelectMany(p => p.Data));
        Assert.True(commandPdvs[^1].IsLast);
        Assert.All(commandPdvs[..^1], p => Assert.False(p.IsLast));
        Assert.Equal(data, dataPdvs.SelectMany(p => p.Data));
        Assert.True(dataPdvs[^1].IsLast);
        Assert.All(dataPdvs[..^1], p => Assert.False(p.IsLast));
    }

    private static async Task<List<Pdv>> FrameAsync(int maxPdvData, int batchBytes, Func<PdvBatchWriter, Task> write)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptSocketAsync();
        await using var connection = await UpperLayerConnection.WrapAsync(client, AssociationOptions.Default, isServer: false, CancellationToken.None);

        var reading = Task.Run(async () =>
        {
            using var ms = new MemoryStream();
            var buffer = new byte[65536];
            int n;
            while ((n = await server.ReceiveAsync(buffer, SocketFlags.None)) > 0) ms.Write(buffer, 0, n);
            return ms.ToArray();
        });
        using (var writer = new PdvBatchWriter(connection, 5, maxPdvData, batchBytes)) await write(writer);
        client.Shutdown(SocketShutdown.Send);
        var bytes = await reading.WaitAsync(TimeSpan.FromSeconds(30));

        var pdvs = new List<Pdv>();
        for (var p = 0; p < bytes.Length;)
        {
            Assert.Equal(0x04, bytes[p]);
            var pduLength = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(p + 2));
            var end = p + 6 + pduLength;
            for (var q = p + 6; q < end;)
            {
                var itemLength = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(q));
                var control = bytes[q + 5];
                pdvs.Add(new Pdv(bytes[q + 4], (control & 1) != 0, (control & 2) != 0, bytes.AsSpan(q + 6, itemLength - 2).ToArray()));
                q += 4 + itemLength;
            }
            p = end;
        }
        return pdvs;
    }
}
