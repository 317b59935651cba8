using System.Buffers.Binary;

namespace ServerlessImaging.Dicom;

/// <summary>Where the bytes of a value live: in memory, or (for large values) a range of a file read only on demand.
/// Bytes handed out are always little endian (big endian sources are swapped on read).</summary>
public abstract class DicomValueSource
{
    /// <summary>Length of the value in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>True when the bytes are in memory.</summary>
    public abstract bool IsInMemory { get; }

    /// <summary>The whole value (loads it if it lives in a file).</summary>
    public abstract ReadOnlyMemory<byte> GetBytes();

    /// <summary>The whole value, loading asynchronously if needed.</summary>
    public virtual ValueTask<ReadOnlyMemory<byte>> GetBytesAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(GetBytes());

    /// <summary>Streams the value to a destination without holding it all in memory.</summary>
    public abstract ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default);

    public static DicomValueSource Empty { get; } = new MemoryValueSource(ReadOnlyMemory<byte>.Empty);

    public static DicomValueSource FromBytes(ReadOnlyMemory<byte> bytes) => bytes.IsEmpty ? Empty : new MemoryValueSource(bytes);
}

/// <summary>A value held in memory.</summary>
public sealed class MemoryValueSource(ReadOnlyMemory<byte> bytes) : DicomValueSource
{
    public override long Length => bytes.Length;
    public override bool IsInMemory => true;
    public override ReadOnlyMemory<byte> GetBytes() => bytes;

    public override ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.WriteAsync(bytes, cancellationToken);
    }
}

/// <summary>A value left in its file (offset, length); opened and read only when someone asks for it.</summary>
public sealed class FileRangeValueSource : DicomValueSource
{
    public FileRangeValueSource(string path, long offset, long length, int swapUnitSize = 1)
    {
        Path = path;
        Offset = offset;
        _length = length;
        SwapUnitSize = swapUnitSize;
    }

    private readonly long _length;

    public string Path { get; }
    public long Offset { get; }

    /// <summary>&gt;1 when the file is big endian and each unit of this size must be swapped to little endian.</summary>
    public int SwapUnitSize { get; }

    public override long Length => _length;
    public override bool IsInMemory => false;

    public override ReadOnlyMemory<byte> GetBytes()
    {
        if (_length > Array.MaxLength)
        {
            throw new DicomValueException("Value is too large to load into memory; stream it with CopyToAsync");
        }
        var buffer = new byte[_length];
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        fs.Position = Offset;
        fs.ReadExactly(buffer);
        Swap(buffer, SwapUnitSize);
        return buffer;
    }

    public override async ValueTask<ReadOnlyMemory<byte>> GetBytesAsync(CancellationToken cancellationToken = default)
    {
        if (_length > Array.MaxLength)
        {
            throw new DicomValueException("Value is too large to load into memory; stream it with CopyToAsync");
        }
        var buffer = new byte[_length];
        await using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        fs.Position = Offset;
        await fs.ReadExactlyAsync(buffer, cancellationToken);
        Swap(buffer, SwapUnitSize);
        return buffer;
    }

    public override async ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        await using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        fs.Position = Offset;
        var chunk = new byte[Math.Min(_length, 256 * 1024)];
        var remaining = _length;
        while (remaining > 0)
        {
            var n = (int)Math.Min(chunk.Length, remaining);
            // Keep chunks aligned to the swap unit so each unit is swapped whole.
            n -= n % Math.Max(1, SwapUnitSize);
            if (n == 0)
            {
                n = (int)remaining;
            }
            await fs.ReadExactlyAsync(chunk.AsMemory(0, n), cancellationToken);
            Swap(chunk.AsSpan(0, n), SwapUnitSize);
            await destination.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
            remaining -= n;
        }
    }

    internal static void Swap(Span<byte> data, int unit)
    {
        switch (unit)
        {
            case 2:
                var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(data[..(data.Length & ~1)]);
                BinaryPrimitives.ReverseEndianness(s, s);
                break;
            case 4:
                var i = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(data[..(data.Length & ~3)]);
                BinaryPrimitives.ReverseEndianness(i, i);
                break;
            case 8:
                var l = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data[..(data.Length & ~7)]);
                BinaryPrimitives.ReverseEndianness(l, l);
                break;
        }
    }
}

/// <summary>A value known only by a BulkDataURI (from DICOM JSON); reading it raises <see cref="DicomValueException"/> until resolved.</summary>
public sealed class BulkDataReferenceSource(string uri) : DicomValueSource
{
    public string Uri { get; } = uri;
    public override long Length => 0;
    public override bool IsInMemory => false;
    public override ReadOnlyMemory<byte> GetBytes() => throw new DicomValueException("Value is a bulk data reference that has not been retrieved");
    public override ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default) =>
        throw new DicomValueException("Value is a bulk data reference that has not been retrieved");
}
