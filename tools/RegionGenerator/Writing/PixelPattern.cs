using System.Buffers.Binary;

namespace ServerlessImaging.RegionGenerator.Writing;

/// <summary>
/// Synthetic 16-bit monochrome pixels (12 bits stored): a disc whose radius changes along the series,
/// over a diagonal gradient keyed by the series, so slices differ and viewers show something recognisable.
/// Pure function of its inputs, hence deterministic.
/// </summary>
public static class PixelPattern
{
    public const int BitsStored = 12;

    public static byte[] Create(int rows, int columns, int instanceNumber, int instanceCount, int seriesSalt)
    {
        var pixels = new byte[checked(rows * columns * 2)];
        Fill(pixels, rows, columns, instanceNumber, instanceCount, seriesSalt);
        return pixels;
    }

    public static void Fill(Span<byte> destination, int rows, int columns, int instanceNumber, int instanceCount, int seriesSalt)
    {
        var cx = columns / 2.0;
        var cy = rows / 2.0;
        var maxRadius = Math.Min(rows, columns) * 0.45;
        // Radius grows then shrinks along the series, like an organ through axial slices.
        var t = instanceCount <= 1 ? 0.5 : (instanceNumber - 1) / (double)(instanceCount - 1);
        var radius = maxRadius * (0.3 + 0.7 * Math.Sin(Math.PI * t));
        var radius2 = radius * radius;
        var background = 200 + (seriesSalt & 0x3FF);
        for (var y = 0; y < rows; y++)
        {
            var row = destination.Slice(y * columns * 2, columns * 2);
            var dy = y - cy;
            for (var x = 0; x < columns; x++)
            {
                var dx = x - cx;
                var value = dx * dx + dy * dy <= radius2
                    ? 3000 + ((x ^ y) & 0x1F) * 8
                    : background + (x + y) * 1024 / (rows + columns);
                BinaryPrimitives.WriteUInt16LittleEndian(row.Slice(x * 2, 2), (ushort)Math.Min(value, (1 << BitsStored) - 1));
            }
        }
    }
}
