using ServerlessImaging.Dicom.Web.Stow;

namespace ServerlessImaging.Dicom.Web.Tests.Stow;

public class StowContentTests
{
    [Fact]
    public async Task The_next_instance_is_opened_while_the_current_one_streams_and_parts_keep_their_order()
    {
        var opened = new List<int>();
        var firstFullyRead = -1;
        var instances = Enumerable.Range(0, 3).Select(i => StowInstance.FromFactory(_ =>
        {
            lock (opened)
            {
                opened.Add(i);
            }

            return ValueTask.FromResult<Stream>(new ObservedStream(new byte[] { (byte)('a' + i), (byte)('a' + i) }, () =>
            {
                if (i == 0)
                {
                    firstFullyRead = opened.Count;
                }
            }));
        })).ToList();
        using var content = new StowContent(instances, "b");

        var body = System.Text.Encoding.ASCII.GetString(await content.ReadAsByteArrayAsync());

        Assert.Equal([0, 1, 2], opened);
        Assert.Equal(2, firstFullyRead); // instance 1 was already open when instance 0 had been read to its end
        Assert.True(body.IndexOf("aa", StringComparison.Ordinal) < body.IndexOf("bb", StringComparison.Ordinal) && body.IndexOf("bb", StringComparison.Ordinal) < body.IndexOf("cc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_part_that_fails_while_streaming_fails_the_body_and_closes_the_instance_opened_ahead()
    {
        var ahead = new ObservedStream([1, 2, 3], () => { });
        var instances = new[]
        {
            StowInstance.FromFactory(_ => ValueTask.FromResult<Stream>(new FailingStream())),
            StowInstance.FromFactory(_ => ValueTask.FromResult<Stream>(ahead)),
        };
        using var content = new StowContent(instances, "b");

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => content.CopyToAsync(Stream.Null));
        Assert.Equal("source broke", Assert.IsType<IOException>(failure.InnerException).Message);

        Assert.True(ahead.Disposed);
    }

    private sealed class ObservedStream(byte[] bytes, Action atEnd) : MemoryStream(bytes)
    {
        public bool Disposed { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await base.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                atEnd();
            }

            return n;
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("source broke");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("source broke");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
