/**
 * An independent PyTorch ViT with timm's module names (pre-norm blocks, exact GELU, LayerNorm eps
 * 1e-6, class-token pooling), for the tests under test/vit. `ViT(a)` takes
 * {size, cin, patch, dim, heads, hidden, depth, classes}.
 */
export const VIT_MODULES = `
class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
    def forward(self, x):
        B, N, C = x.shape
        d = C // self.heads
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q @ k.transpose(-2, -1)) * d ** -0.5).softmax(dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, N, C))

class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(0.5 * h * (1 + torch.erf(h / math.sqrt(2))))

class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)
    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))

class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, patch, stride=patch)
    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)

class ViT(nn.Module):
    def __init__(self, a):
        super().__init__()
        n = (a['size'] // a['patch']) ** 2
        self.patch_embed = PatchEmbed(a['cin'], a['dim'], a['patch'])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, a['dim']))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, a['dim']))
        self.blocks = nn.Sequential(*[Block(a['dim'], a['heads'], a['hidden']) for _ in range(a['depth'])])
        self.norm = nn.LayerNorm(a['dim'], eps=1e-6)
        self.head = nn.Linear(a['dim'], a['classes'])
    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])
`;
