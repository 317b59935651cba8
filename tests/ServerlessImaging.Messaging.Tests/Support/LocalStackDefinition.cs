using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Messaging.Tests.Support;

[CollectionDefinition(LocalStackFixture.CollectionName)]
public sealed class LocalStackDefinition : ICollectionFixture<LocalStackFixture>;
