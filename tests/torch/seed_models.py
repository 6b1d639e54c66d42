"""seed_models.py - the seeds' PyTorch code, copied verbatim: the reference ncsn.h is checked against.

Sources (the three seed documents, described by title in docs/method.md):
  seed 000, the article "Noise Conditioned Score Networks: Teaching a Neural Network to Denoise
      at Every Scale": ScoreNet, generate_data, the sigma list (wrapped in a function), the
      training-loop body (wrapped in a function).
  seed 001, the course notes "Noise Conditional Score Networks (NCSN)" (section 4, PyTorch
      Implementation, and 5.1): SinusoidalPositionEmbeddings, NCSNScoreNetwork, ncsn_loss and
      create_noise_schedule, annealed_langevin_dynamics, NCSN, swiss_roll.
Nothing inside the copied blocks is edited. Where a seed is wrong, the fix lives OUTSIDE the
copied text and is marked "ERRATUM":

  ERRATUM seed 000, training loop:  loss = (sigma.squeeze(1) ** 2 * (pred - target) ** 2).mean()
      sigma.squeeze(1) has shape (B,), (pred - target) ** 2 has shape (B, 2). Broadcasting aligns
      trailing dimensions, so (B,) is matched against the D = 2 column axis, not the batch axis:
        * B = 5000 (the seed's own batch): torch 1.13.1 raises
            RuntimeError: The size of tensor a (5000) must match the size of tensor b (2) at
            non-singleton dimension 1
          i.e. the seed's training loop crashes on its first iteration;
        * B = 2 (= D): no error, but element [i][j] is weighted by sigma_j^2 instead of sigma_i^2
          (a silently wrong loss);
        * B = 1: correct (broadcast of a single value).
      Fix (used by seed000_train_step_fixed below): weight by sigma ** 2 with sigma of shape (B, 1),
      or sigma.squeeze(1).unsqueeze(1) ** 2 -- the form seed 001's ncsn_loss uses.
      parity.py re-runs the verbatim line at B = 5000 and prints what torch does.

  Note seed 000, data: the module-level list `sigmas = torch.tensor([...])` is built from Python
      doubles (pow in double, then one rounding to float32); seed 001's create_noise_schedule is
      exp(linspace(log max, log min)) in float32. The two schedules can differ in the last bit.
"""
import torch
import torch.nn as nn
import numpy as np
from typing import List


# ---- seed 000, lines 131-150 (verbatim) ------------------------------------------------------
class ScoreNet(nn.Module):
    """Noise Conditioned Score Network for 2D data."""
    def __init__(self, hidden_dim=128):
        super().__init__()
        # Input: 2D data point + 1D noise level = 3
        self.net = nn.Sequential(
            nn.Linear(3, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.SiLU(),
            nn.Linear(hidden_dim, 2),  # Output: 2D score
        )

    def forward(self, x, sigma):
        # x: (batch, 2), sigma: (batch, 1)
        sigma_input = sigma.view(-1, 1)
        net_input = torch.cat([x, sigma_input], dim=1)
        return self.net(net_input)

# ---- seed 000, lines 263-269 (verbatim) ------------------------------------------------------
# Generate training data: mixture of 2 Gaussians
def generate_data(n=5000):
    mix = torch.rand(n, 1)
    centers = torch.tensor([[-3.0, 0.0], [3.0, 0.0]])
    idx = (mix > 0.5).long().squeeze()
    data = centers[idx] + 0.5 * torch.randn(n, 2)
    return data

# ---- seed 000, lines 271-277 (verbatim, indented into a function so that importing this file
#      runs nothing) ----------------------------------------------------------------------------
def seed000_sigmas():
    # Noise levels (geometric sequence)
    L = 10
    sigma_1, sigma_L = 10.0, 0.01
    sigmas = torch.tensor([
        sigma_1 * (sigma_L / sigma_1) ** (i / (L - 1))
        for i in range(L)
    ])
    return sigmas


# ---- seed 000, lines 285-304: the body of `for epoch in range(2000):` (verbatim), as a function.
#      Randomness comes from torch.randint / torch.randn_like, which parity.py replaces with
#      fixed tensors so that ncsn.h can be fed the same levels and noise. Contains the ERRATUM line.
def seed000_train_step(model, optimizer, data, sigmas, L):
    # Sample a random noise level
    idx = torch.randint(0, L, (data.shape[0],))
    sigma = sigmas[idx].unsqueeze(1)

    # Add noise
    noise = torch.randn_like(data)
    noisy_data = data + sigma * noise

    # Target: -noise / sigma
    target = -noise / sigma

    # Predict score
    pred = model(noisy_data, sigma.squeeze(1))

    # Weighted loss: sigma^2 * ||pred - target||^2
    loss = (sigma.squeeze(1) ** 2 * (pred - target) ** 2).mean()

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def seed000_train_step_fixed(model, optimizer, data, sigmas, L):
    """seed000_train_step with the ERRATUM fixed: the only changed line is marked."""
    idx = torch.randint(0, L, (data.shape[0],))
    sigma = sigmas[idx].unsqueeze(1)
    noise = torch.randn_like(data)
    noisy_data = data + sigma * noise
    target = -noise / sigma
    pred = model(noisy_data, sigma.squeeze(1))
    loss = (sigma ** 2 * (pred - target) ** 2).mean()   # ERRATUM fix: sigma is (B, 1) here
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


# ---- seed 001, lines 215-229 (verbatim) -------------------------------------------------------
class SinusoidalPositionEmbeddings(nn.Module):
    """Sinusoidal embeddings for noise level conditioning."""
    
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, sigma: torch.Tensor) -> torch.Tensor:
        device = sigma.device
        half_dim = self.dim // 2
        embeddings = np.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=device) * -embeddings)
        embeddings = sigma.unsqueeze(-1) * embeddings.unsqueeze(0)
        embeddings = torch.cat([embeddings.sin(), embeddings.cos()], dim=-1)
        return embeddings

# ---- seed 001, lines 235-291 (verbatim) -------------------------------------------------------
class NCSNScoreNetwork(nn.Module):
    """
    Score network with noise level conditioning.
    
    The network takes (x, σ) and outputs s_θ(x, σ) ∈ R^D.
    Uses sinusoidal embeddings for σ conditioning.
    """
    
    def __init__(
        self,
        input_dim: int,
        hidden_dims: List[int] = [256, 256, 256],
        sigma_embed_dim: int = 64
    ):
        super().__init__()
        
        self.input_dim = input_dim
        
        # Noise level embedding: σ → embedding
        self.sigma_embed = nn.Sequential(
            SinusoidalPositionEmbeddings(sigma_embed_dim),
            nn.Linear(sigma_embed_dim, sigma_embed_dim),
            nn.SiLU(),
            nn.Linear(sigma_embed_dim, sigma_embed_dim)
        )
        
        # Main network: [x, σ_emb] → score
        layers = []
        dims = [input_dim + sigma_embed_dim] + hidden_dims
        for i in range(len(dims) - 1):
            layers.extend([
                nn.Linear(dims[i], dims[i+1]),
                nn.SiLU()
            ])
        layers.append(nn.Linear(dims[-1], input_dim))
        
        self.net = nn.Sequential(*layers)
        
        # Initialize output layer near zero for stability
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
    
    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: Input data, shape (N, D)
            sigma: Noise levels, shape (N,) or scalar
        
        Returns:
            Score vectors, shape (N, D)
        """
        if sigma.dim() == 0:
            sigma = sigma.expand(x.shape[0])
        
        sigma_emb = self.sigma_embed(sigma)
        x_input = torch.cat([x, sigma_emb], dim=1)
        return self.net(x_input)

# ---- seed 001, lines 297-358 (verbatim) -------------------------------------------------------
def ncsn_loss(
    score_model: nn.Module,
    samples: torch.Tensor,
    sigmas: torch.Tensor,
    use_weighting: bool = True
) -> torch.Tensor:
    """
    NCSN training loss with σ² weighting.
    
    Args:
        score_model: Noise-conditioned score network
        samples: Clean data, shape (N, D)
        sigmas: Noise levels (descending), shape (L,)
        use_weighting: If True, weight by σ² for balanced loss
    
    Returns:
        Scalar loss
    """
    N = samples.shape[0]
    L = len(sigmas)
    device = samples.device
    
    # Randomly select noise level for each sample
    idx = torch.randint(0, L, (N,), device=device)
    sigma = sigmas[idx]  # (N,)
    
    # Add noise: x̃ = x + σε
    noise = torch.randn_like(samples)
    noisy_samples = samples + sigma.unsqueeze(1) * noise
    
    # Predict score
    pred_score = score_model(noisy_samples, sigma)
    
    # Target: -ε/σ
    target_score = -noise / sigma.unsqueeze(1)
    
    # Loss with optional σ² weighting
    if use_weighting:
        # σ²||s + ε/σ||² = ||σs + ε||² (scale-invariant)
        loss = torch.mean(
            (sigma.unsqueeze(1) ** 2) * (pred_score - target_score) ** 2
        )
    else:
        loss = torch.mean((pred_score - target_score) ** 2)
    
    return loss


def create_noise_schedule(
    sigma_min: float = 0.01,
    sigma_max: float = 50.0,
    num_levels: int = 10
) -> torch.Tensor:
    """
    Create geometric noise schedule (descending).
    
    Returns:
        Tensor of shape (num_levels,) with σ values from σ_max to σ_min
    """
    return torch.exp(
        torch.linspace(np.log(sigma_max), np.log(sigma_min), num_levels)
    )

# ---- seed 001, lines 364-406 (verbatim) -------------------------------------------------------
@torch.no_grad()
def annealed_langevin_dynamics(
    score_model: nn.Module,
    sigmas: torch.Tensor,
    n_samples: int,
    data_dim: int,
    n_steps_per_sigma: int = 100,
    step_size: float = 1e-5,
    device: str = 'cpu'
) -> torch.Tensor:
    """
    Generate samples using Annealed Langevin Dynamics.
    
    Args:
        score_model: Trained NCSN model
        sigmas: Noise schedule (descending order)
        n_samples: Number of samples to generate
        data_dim: Dimension of data
        n_steps_per_sigma: Langevin steps per noise level
        step_size: Base step size ε
        device: Compute device
    
    Returns:
        Generated samples, shape (n_samples, data_dim)
    """
    score_model.eval()
    sigmas = sigmas.to(device)
    sigma_min = sigmas[-1]
    
    # Initialize from large-scale Gaussian
    x = torch.randn(n_samples, data_dim, device=device) * sigmas[0]
    
    for sigma in sigmas:
        # Adaptive step size: α = ε × (σ/σ_min)²
        alpha = step_size * (sigma / sigma_min) ** 2
        
        for _ in range(n_steps_per_sigma):
            # Langevin step
            noise = torch.randn_like(x)
            score = score_model(x, sigma.expand(n_samples))
            x = x + (alpha / 2) * score + torch.sqrt(alpha) * noise
    
    return x

# ---- seed 001, lines 412-463 (verbatim) -------------------------------------------------------
class NCSN:
    """
    Complete NCSN trainer and sampler.
    """
    
    def __init__(
        self,
        score_net: NCSNScoreNetwork,
        sigma_min: float = 0.01,
        sigma_max: float = 10.0,
        n_sigmas: int = 10,
        lr: float = 1e-3
    ):
        self.score_net = score_net
        self.sigma_min = sigma_min
        self.sigma_max = sigma_max
        self.n_sigmas = n_sigmas
        
        # Geometric noise schedule
        self.sigmas = create_noise_schedule(sigma_min, sigma_max, n_sigmas)
        
        self.optimizer = torch.optim.Adam(score_net.parameters(), lr=lr)
    
    def train_step(self, x: torch.Tensor) -> dict:
        """Single training step."""
        self.score_net.train()
        self.optimizer.zero_grad()
        
        loss = ncsn_loss(self.score_net, x, self.sigmas.to(x.device))
        loss.backward()
        self.optimizer.step()
        
        return {'loss': loss.item()}
    
    @torch.no_grad()
    def sample(
        self,
        n_samples: int,
        n_steps_per_sigma: int = 100,
        step_size: float = 1e-5,
        device: str = 'cpu'
    ) -> torch.Tensor:
        """Generate samples using ALD."""
        return annealed_langevin_dynamics(
            self.score_net,
            self.sigmas,
            n_samples,
            self.score_net.input_dim,
            n_steps_per_sigma,
            step_size,
            device
        )

# ---- seed 001, lines 474-482 (verbatim) -------------------------------------------------------

# Generate Swiss roll data
def swiss_roll(n: int) -> torch.Tensor:
    t = 1.5 * np.pi * (1 + 2 * np.random.rand(n))
    x = t * np.cos(t) + 0.1 * np.random.randn(n)
    y = t * np.sin(t) + 0.1 * np.random.randn(n)
    data = np.stack([x, y], axis=1)
    data = (data - data.mean(0)) / data.std(0)  # Normalize
    return torch.tensor(data, dtype=torch.float32)
