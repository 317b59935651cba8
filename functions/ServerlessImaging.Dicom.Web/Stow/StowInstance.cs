namespace ServerlessImaging.Dicom.Web.Stow;

/// <summary>
/// One Part 10 file to send. Sources that can be opened again (files, byte arrays, seekable streams,
/// factories) make the whole STOW request replayable, which is what allows retrying it.
/// </summary>
public abstract class StowInstance
{
    /// <summary>Byte count if known up front (lets the request carry Content-Length instead of chunking).</summary>
    public abstract long? Length { get; }

    /// <summary>True if <see cref="OpenAsync"/> may be called again after a failed attempt.</summary>
    public abstract bool CanReopen { get; }

    /// <summary>A stream positioned at the start of the Part 10 bytes; the caller disposes it.</summary>
    public abstract ValueTask<Stream> OpenAsync(CancellationToken cancellationToken);

    public static StowInstance FromFile(string path) => new FileInstance(path);

    public static StowInstance FromBytes(ReadOnlyMemory<byte> bytes) => new BytesInstance(bytes);

    /// <summary>A stream owned by the caller. Seekable streams are replayable (rewound to their current position).</summary>
    public static StowInstance FromStream(Stream stream) => new StreamInstance(stream);

    /// <summary>Opens a fresh stream per attempt, e.g. a blob download: replayable.</summary>
    public static StowInstance FromFactory(Func<CancellationToken, ValueTask<Stream>> open, long? length = null) => new FactoryInstance(open, length);

    private sealed class FileInstance : StowInstance
    {
        private readonly string _path;
        private readonly long _length;

        public FileInstance(string path)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(path);
            _path = path;
            _length = new FileInfo(path).Length; // throws FileNotFoundException early, before any byte is sent
        }

        public override long? Length => _length;
        public override bool CanReopen => true;

        public override ValueTask<Stream> OpenAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<Stream>(new FileStream(_path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0, // the multipart writer copies in large blocks already
            }));
    }

    private sealed class BytesInstance(ReadOnlyMemory<byte> bytes) : StowInstance
    {
        public override long? Length => bytes.Length;
        public override bool CanReopen => true;

        public override ValueTask<Stream> OpenAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<Stream>(new ReadOnlyMemoryStream(bytes));
    }

    private sealed class StreamInstance : StowInstance
    {
        private readonly Stream _stream;
        private readonly long _start;
        private bool _opened;

        public StreamInstance(Stream stream)
        {
            ArgumentNullException.ThrowIfNull(stream);
            _stream = stream;
            _start = stream.CanSeek ? stream.Position : 0;
        }

        public override long? Length => _stream.CanSeek ? _stream.Length - _start : null;
        public override bool CanReopen => _stream.CanSeek;

        public override ValueTask<Stream> OpenAsync(CancellationToken cancellationToken)
        {
            if (_stream.CanSeek)
            {
                _stream.Position = _start;
            }
            else if (_opened)
            {
                throw new InvalidOperationException("A non-seekable STOW source stream can be sent only once.");
            }
            _opened = true;
            return ValueTask.FromResult<Stream>(new NonClosingStream(_stream));
        }
    }

    private sealed class FactoryInstance(Func<CancellationToken, ValueTask<Stream>> open, long? length) : StowInstance
    {
        public override long? Length => length;
        public override bool CanReopen => true;
        public override ValueTask<Stream> OpenAsync(CancellationToken cancellationToken) => open(cancellationToken);
    }
}
